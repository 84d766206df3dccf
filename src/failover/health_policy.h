#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "failover/protection_spec.h"
#include "failover/vocabulary.h"

namespace standby {

// What the provider says about the instance's machine.
enum class ProviderView {
  kRunning,
  kLoading,
  kGone,        // exited, offline, or no longer listed
  kUnknown,     // the provider's API did not answer this round
  kNotTracked,  // a host no provider rents (adopted with --ssh)
};

// What one probe round saw of one instance. Probes fill it; the policy reads only this.
struct Observation {
  int64_t at_ms = 0;      // wall clock (what MTTR is measured from)
  int64_t mono_ns = 0;    // monotonic clock
  bool agent_ok = false;  // SSH and the agent's health job answered
  std::string agent_error;
  bool agent_timed_out = false;          // (!agent_ok) the probe ran out of time
  bool workload_alive = false;           // (agent_ok) the workload process runs
  std::optional<bool> workload_healthy;  // (agent_ok) its health check, when it has one
  std::string workload_detail;
  ProviderView provider = ProviderView::kUnknown;
  std::string provider_detail;
  // The controller reached the workload's port itself (only where the provider exposes it).
  std::optional<bool> direct_health;
  // Whether the controller reaches the object store; probed only when the agent failed and
  // the provider's API did not answer (is it the controller that is cut off?).
  std::optional<bool> store_reachable;
};

enum class Verdict {
  kHealthy,
  kStarting,         // the workload was (re)started and is within its health timeout
  kSuspect,          // something failed, not (yet) enough to act
  kRestartWorkload,  // the host is fine, the workload is not: restart it in place
  kFailOver,
  kIsolated,  // the controller reaches nothing: it is the one cut off; fail over nothing
};

struct Decision {
  Verdict verdict = Verdict::kHealthy;
  Trigger trigger = Trigger::kHostDead;  // with kFailOver
  // One line with the reason and its evidence, e.g. "host 771086 dead: 3 failed probes in
  // 4.1 s (connection refused), provider says offline".
  std::string reason;
};

// The health policy of one instance: observations in, decisions out. Pure: no clock, no I/O;
// time comes from the observations. Rules (docs/design.md, "The health policy"):
// - any successful probe resets the failure count; a new policy (a controller that just
//   started) counts only its own probes, so the time it was down is never evidence;
// - dead when two listings in a row say gone and two probes in a row failed (providers
//   lie: a live machine is listed offline for a round), or after `dead_after` failures in a
//   row while the controller still reaches the provider or the store; a round in which it
//   reaches neither is isolation: never a failover, and not counted as a failure;
// - a workload whose port answers the controller directly is not dead, whatever SSH says;
// - a dead or unhealthy workload on a healthy host is restarted in place, at most
//   `max_restarts` times in `restart_window`, then failed over (workload_unhealthy).
class HealthPolicy {
 public:
  explicit HealthPolicy(FailoverPolicy policy, bool has_workload, bool has_health_check)
      : policy_(policy), has_workload_(has_workload), has_health_check_(has_health_check) {}

  Decision Decide(const Observation& o);
  // The controller (re)started the workload at `mono_ns`: it has health_timeout to answer,
  // and a restart counts against max_restarts.
  void WorkloadStarted(int64_t mono_ns, bool counts_as_restart);
  // Everything forgotten: after a failover, the new host starts with a clean record.
  void Reset();

  int consecutive_failures() const { return failures_; }
  // Wall time of the first failure of the current run of failures (0 when none).
  int64_t first_failure_at_ms() const { return first_failure_at_ms_; }

 private:
  Decision WorkloadDecision(const Observation& o);
  Decision RestartOrFailOver(const Observation& o, const std::string& why);

  FailoverPolicy policy_;
  bool has_workload_;
  bool has_health_check_;
  int failures_ = 0;
  int gone_rounds_ = 0;  // observations in a row in which the provider said gone
  int64_t first_failure_at_ms_ = 0;
  int64_t first_failure_mono_ns_ = 0;
  int unhealthy_ = 0;
  std::optional<int64_t> workload_started_ns_;
  std::deque<int64_t> restarts_ns_;
};

}  // namespace standby
