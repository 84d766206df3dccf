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

// Where a failover is; persisted before each phase's side effects (recovery.h has the
// order). `kReplacing` runs fencing, provisioning and locating the snapshot in parallel.
enum class FailoverPhase {
  kDetected,
  kFinalSnapshot,  // a planned move: the old workload stopped, its last changes snapshotted
  kReplacing,      // fencing ‖ provisioning ‖ locating snapshot
  kRestoring,
  kValidating,
  kFencing,  // the old host must be fenced (or, by policy, pending) before the new starts
  kStarting,
  kChecking,
  kDone,
  kFailed,
};
std::string_view FailoverPhaseName(FailoverPhase p);
std::optional<FailoverPhase> ParseFailoverPhase(std::string_view name);
bool Finished(FailoverPhase p);

// What a request for a failover is answered while one runs (the request row's result starts
// with it and its failover_id names the running failover; the API answers 409 with it).
inline constexpr std::string_view kAlreadyFailingOver = "already_failing_over";

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
