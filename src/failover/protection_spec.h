#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/result.h"
#include "config/config.h"
#include "provider/provider.h"
#include "remote/host_agent.h"

namespace standby {

// How the controller watches and recovers one instance. Defaults are the issue's: a probe
// every 2 s, dead after 3 failures in a row (detection ≤ 10 s), 2 restarts in place within
// 10 minutes, 600 s for the workload to answer (model loading is slow), 120 s for a planned
// failover's final snapshot, 3 machines per failover.
// What a failover does when the old host cannot be fenced (it does not answer, its destroy is
// not confirmed): kProceed — the new host serves and the fence stays pending (shown, told,
// retried until the old host answers and is fenced); kWait — the new workload does not start
// until the fence is confirmed (for workloads with side effects outside the workspace).
enum class FenceUnconfirmed { kProceed, kWait };
std::string_view FenceUnconfirmedName(FenceUnconfirmed f);
std::optional<FenceUnconfirmed> ParseFenceUnconfirmed(std::string_view name);

struct FailoverPolicy {
  std::chrono::milliseconds probe_interval{2000};
  // SSH connect + health job; 3 × 3 s keeps detection of a stalled host within 10 s.
  std::chrono::milliseconds probe_timeout{3000};
  int dead_after = 3;
  int max_restarts = 2;
  std::chrono::seconds restart_window{600};
  std::chrono::seconds health_timeout{600};
  std::chrono::seconds final_snapshot_timeout{120};
  int max_attempts = 3;
  std::chrono::seconds retry_backoff{300};  // a failed failover is tried again after this
  // Probe the workload's port from the controller when the provider exposes it: a host
  // whose service answers users is not dead, whatever SSH says.
  bool direct_probe = true;
  // Rent on suspicion (failover/speculation.h): launch the race's first batch at the first
  // failed probe; at most one such launch per instance per speculative_window.
  bool speculative_race = true;
  std::chrono::seconds speculative_window{600};
  FenceUnconfirmed fence_unconfirmed = FenceUnconfirmed::kProceed;
};

// What `standby protect` stores: where the workspace lives and is snapshotted, what to rent
// for it, what runs there and how to check it, and the policy.
struct ProtectionSpec {
  std::string name;                      // [a-z0-9][a-z0-9._-]*, ≤ 63 characters
  std::string repo;                      // snapshot repository (as hosts reach it)
  std::string workspace = "/workspace";  // the same path on every host
  OfferFilter filter;
  std::string image = "vastai/base-image:cuda-12.4.1-auto";
  int disk_gb = 50;
  std::string ssh_user = "root";
  WorkloadSpec workload;  // command, and its health URL or check command on the host
  std::chrono::seconds snapshot_every{3600};
  int keep_last = 48;
  // Scheduled drills (`protect --drill-every`): 0 = none. A drill is a planned move unless
  // drill_kill, which kills the host (on Vast.ai: destroys it through the API).
  std::chrono::seconds drill_every{0};
  bool drill_kill = false;
  FailoverPolicy policy;
};

nlohmann::json SpecToJson(const ProtectionSpec& spec);
// kCorruption when stored JSON does not parse, holds impossible values, or fails
// ValidateSpec (what `serve` reads is what `protect` accepted, by the same checks).
Result<ProtectionSpec> SpecFromJson(const std::string& text);
// kInvalidArgument naming the first problem. `protect` runs it on the spec as it will be
// stored and read back (SpecFromJson), so nothing is stored that `serve` would refuse.
Status ValidateSpec(const ProtectionSpec& spec);
Status ValidateInstanceName(const std::string& name);

// The policy and schedule defaults from the configuration (failover.* settings and
// PERIODIC_SNAPSHOT_INTERVAL_MINUTES).
Result<ProtectionSpec> SpecDefaultsFromConfig(const Config& config);
// "90s", "60m", "7d", "2h", plain seconds.
Result<std::chrono::seconds> ParseDuration(const std::string& text);

}  // namespace standby
