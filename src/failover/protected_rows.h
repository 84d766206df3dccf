#pragma once

#include <functional>
#include <optional>
#include <string>

#include "failover/controller_context.h"
#include "state/state_store.h"

namespace standby {

// Read-modify-write of a protected instance under optimistic concurrency: reads the row,
// lets `change` edit it (returning false leaves it alone), writes it if nobody wrote it
// meanwhile, and otherwise starts again (a few times). Returns the written row, or nullopt
// when `change` declined or the instance no longer exists.
Result<std::optional<ProtectedInstance>> UpdateProtectedRow(
    ControllerContext* ctx, const std::string& name,
    const std::function<bool(ProtectedInstance&)>& change);

}  // namespace standby
