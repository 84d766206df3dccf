#pragma once

#include <functional>
#include <optional>
#include <string>

#include "failover/controller_context.h"
#include "remote/transport_factory.h"
#include "state/state_store.h"

namespace standby {

// Read-modify-write of a protected instance under optimistic concurrency: reads the row,
// lets `change` edit it (returning false leaves it alone), writes it if nobody wrote it
// meanwhile, and otherwise starts again (a few times). Returns the written row, or nullopt
// when `change` declined or the instance no longer exists.
Result<std::optional<ProtectedInstance>> UpdateProtectedRow(
    ControllerContext* ctx, const std::string& name,
    const std::function<bool(ProtectedInstance&)>& change);

// The SSH address of the host a row names, logging in as the row's user (`default_user`,
// the spec's, where the row names none); the host key is pinned under the provider's
// instance id (host:port for a host no provider rents).
HostAddress HostOf(const ProtectedInstance& row, const std::string& default_user);
// The host a failover replaces, and its replacement.
HostAddress OriginalHostOf(const FailoverEvent& e, const std::string& default_user);
HostAddress NewHostOf(const FailoverEvent& e, const std::string& default_user);

}  // namespace standby
