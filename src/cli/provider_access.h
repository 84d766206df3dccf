#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "provision/fleet.h"
#include "state/spooling_state_store.h"

namespace standby {

// Flags shared by the provider commands: --provider, --market, --pool, --state-dir.
std::vector<FlagSpec> ProviderFlagSpecs();
// Filter flags of `offers`, `provision` and `protect`: --gpu NAME[,NAME], --gpus N,
// --min-gpu-ram GB, --max-price USD, --min-reliability R, --min-download MBPS, --region R,
// --limit N.
std::vector<FlagSpec> OfferFilterFlagSpecs();
Result<OfferFilter> OfferFilterFrom(const Invocation& inv);

}  // namespace standby
