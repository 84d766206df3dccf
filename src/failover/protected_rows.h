#pragma once

#include <functional>
#include <optional>
#include <string>

#include "failover/controller_context.h"
#include "remote/host_agent.h"
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

// A snapshot of `row.instance_id` was taken: recorded in the snapshots table and, when an
// instance of that name is protected, as its last snapshot (so `status` and `metrics` show
// its age). The controller's own (`hand_repo_url` unset) also end a run of failed periodic
// snapshots; one taken by hand with `snapshot create` counts only when it went to the
// instance's own repository (`hand_repo_url`, as ObjectStore::Url() says it) and leaves the
// failure count alone.
// The row a snapshot of `instance_id` (as its agent or the CLI reported it) is recorded as.
SnapshotRow SnapshotRowOf(const SnapshotReport& snap, const std::string& instance_id,
                          int64_t created_at_ms);
Status RecordSnapshotTaken(ControllerContext* ctx, const SnapshotRow& row,
                           const std::optional<std::string>& hand_repo_url = std::nullopt);

// The SSH address of the host a row names, logging in as the row's user (`default_user`,
// the spec's, where the row names none); the host key is pinned under the provider's
// instance id (host:port for a host no provider rents).
HostAddress HostOf(const ProtectedInstance& row, const std::string& default_user);
// The host a failover replaces, and its replacement.
HostAddress OriginalHostOf(const FailoverEvent& e, const std::string& default_user);
HostAddress NewHostOf(const FailoverEvent& e, const std::string& default_user);

}  // namespace standby
