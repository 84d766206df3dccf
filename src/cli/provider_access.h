#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "provision/fleet.h"
#include "state/spooling_state_store.h"

namespace standby {

Result<OfferFilter> OfferFilterFrom(const Invocation& inv);

}  // namespace standby
