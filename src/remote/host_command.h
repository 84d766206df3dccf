#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/result.h"
#include "remote/store_access.h"
#include "remote/transport_factory.h"

namespace standby {

// Runs `job` for one command: on `address` over SSH with `ssh`, or — without an address —
// with standby-agent as a subprocess of this machine. `store`, when set, adds the
// repository's location and credentials to the job. The agent's events go to `on_event`.
// The result's data gets "transport": where it ran (and, over SSH, its connect/upload/first
// event timings) and "result_unix_ms", this clock when the result arrived. When the job
// fails but the agent sent what it found (a failed verification), that goes to
// `failure_data`.
Result<nlohmann::json> RunCommandJob(const SshSettings& ssh,
                                     const std::optional<HostAddress>& address, AgentJob job,
                                     const StoreAccess* store,
                                     const std::function<void(const AgentEvent&)>& on_event,
                                     nlohmann::json* failure_data = nullptr);

}  // namespace standby
