#pragma once

#include <optional>
#include <string_view>

namespace standby {

// The words the controller stores and prints, one name each (status --json, events --json,
// the state store).

// A protected instance's state.
enum class ProtectionState {
  kPlacing,      // `protect --provision`: being rented and restored for the first time
  kHealthy,      // the host and its workload answer
  kSuspect,      // probes fail, fewer than dead_after times (or only the controller's path)
  kFailingOver,  // a failover runs
  kFailed,       // a failover gave up; it is retried after a backoff
  kPaused,       // the controller leaves it alone
};
std::string_view ProtectionStateName(ProtectionState s);

// Where a failover is; persisted before each phase's side effects. `kReplacing` runs
// fencing, provisioning and locating the snapshot in parallel.
enum class FailoverPhase {
  kDetected,
  kFinalSnapshot,  // planned failovers while the old host answers
  kReplacing,      // fencing ‖ provisioning ‖ locating snapshot
  kRestoring,
  kValidating,
  kStarting,
  kChecking,
  kDone,
  kFailed,
};
std::string_view FailoverPhaseName(FailoverPhase p);
std::optional<FailoverPhase> ParseFailoverPhase(std::string_view name);
bool Finished(FailoverPhase p);

// Why a failover started.
enum class Trigger {
  kHostDead,           // the provider says gone, or every probe failed dead_after times
  kWorkloadUnhealthy,  // restarts in place did not bring the workload back
  kManual,             // `standby failover NAME`
  kPlanned,            // `standby failover NAME --planned`: final snapshot first
  kDrill,              // `standby drill NAME`
  kInitial,            // `protect --provision`: the first placement (not a failover)
};
std::string_view TriggerName(Trigger t);
std::optional<Trigger> ParseTrigger(std::string_view name);

}  // namespace standby
