#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/result.h"
#include "remote/host_agent.h"
#include "remote/store_access.h"
#include "remote/transport_factory.h"

namespace standby {

// Where a command's job runs and how: on `address` over SSH with `ssh`, or — without an
// address — with standby-agent as a subprocess of this machine; `store` (for jobs that need
// the repository) carries its location and credentials; the agent's events go to
// `on_event`.
struct HostCommand {
  SshSettings ssh;
  std::optional<HostAddress> address;
  std::optional<StoreAccess> store;
  std::function<void(const AgentEvent&)> on_event;
  // Ctrl-C: the agent is asked to stop and given kCommandCancelGrace to clean up and say so.
  const std::atomic<bool>* cancel = nullptr;
};

inline constexpr std::chrono::seconds kCommandCancelGrace{20};

struct RestoreOnHostArgs {
  std::string instance_id;
  std::string snapshot_id;  // "" = the instance's latest
  std::string target;
  RestoreJobOptions options;
};

// The commands' jobs on a host. Each returns the agent's result data — the same fields the
// command prints when it runs here — with "transport": where it ran (over SSH, its connect,
// upload and first-event timings) and "result_unix_ms", this clock when the result came.
Result<nlohmann::json> SnapshotOnHost(const HostCommand& where, const std::string& instance_id,
                                      const std::string& workspace, bool full,
                                      const SnapshotJobOptions& options);
Result<nlohmann::json> RestoreOnHost(const HostCommand& where, const RestoreOnHostArgs& args);
// A tree that does not match fails with the verification in `failure_data`.
Result<nlohmann::json> VerifyOnHost(const HostCommand& where, const std::string& instance_id,
                                    const std::string& snapshot_id, const std::string& dir,
                                    size_t threads, nlohmann::json* failure_data);
// Adds "clock_offset_ms": the host's clock minus this one (off by at most the one-way
// latency).
Result<nlohmann::json> HealthOnHost(const HostCommand& where, const std::string& instance_id,
                                    const std::string& workspace, const WorkloadSpec& workload);

}  // namespace standby
