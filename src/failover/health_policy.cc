#include "failover/health_policy.h"

#include <cstdio>

#include "base/strings.h"

namespace standby {
namespace {

std::string Seconds(int64_t ns) { return HumanSeconds(static_cast<double>(ns) / 1e9); }

std::string ProviderSays(const Observation& o) {
  switch (o.provider) {
    case ProviderView::kRunning:
      return "provider says running";
    case ProviderView::kLoading:
      return "provider says loading";
    case ProviderView::kGone:
      return "provider says " + (o.provider_detail.empty() ? "gone" : o.provider_detail);
    case ProviderView::kUnknown:
      return "provider API did not answer";
    case ProviderView::kNotTracked:
      return "no provider tracks this host";
  }
  return "";
}

}  // namespace

void HealthPolicy::Reset() {
  failures_ = 0;
  gone_rounds_ = 0;
  first_failure_at_ms_ = 0;
  first_failure_mono_ns_ = 0;
  unhealthy_ = 0;
  workload_started_ns_.reset();
  restarts_ns_.clear();
}

void HealthPolicy::WorkloadStarted(int64_t mono_ns, bool counts_as_restart) {
  workload_started_ns_ = mono_ns;
  unhealthy_ = 0;
  if (counts_as_restart) restarts_ns_.push_back(mono_ns);
}

Decision HealthPolicy::Decide(const Observation& o) {
  gone_rounds_ = o.provider == ProviderView::kGone ? gone_rounds_ + 1 : 0;
  if (o.agent_ok) {
    failures_ = 0;
    first_failure_at_ms_ = 0;
    return WorkloadDecision(o);
  }
  const bool controller_connected =
      o.provider == ProviderView::kRunning || o.provider == ProviderView::kLoading ||
      o.provider == ProviderView::kGone || o.store_reachable.value_or(false);
  if (!controller_connected) {
    // A round in which the controller reaches nothing is no evidence against the host: it
    // does not count, and the count starts again once the controller is back.
    failures_ = 0;
    first_failure_at_ms_ = 0;
    return {Verdict::kIsolated, Trigger::kHostDead,
            "the controller reaches neither the host, the provider nor the store: it is the one "
            "cut off; failing over nothing (" +
                o.agent_error + ")"};
  }
  if (failures_++ == 0) {
    first_failure_at_ms_ = o.at_ms;
    first_failure_mono_ns_ = o.mono_ns;
  }
  std::string evidence = std::to_string(failures_) + " failed probe" + (failures_ > 1 ? "s" : "") +
                         " in " + Seconds(o.mono_ns - first_failure_mono_ns_) + " (" +
                         o.agent_error + "), " + ProviderSays(o);
  if (o.direct_health.value_or(false)) {
    return {Verdict::kSuspect, Trigger::kHostDead,
            "probes fail but the workload answers users directly: not dead (" + evidence + ")"};
  }
  if (o.provider == ProviderView::kGone && gone_rounds_ >= 2 && failures_ >= 2) {
    return {Verdict::kFailOver, Trigger::kHostDead, "host dead: " + evidence};
  }
  if (failures_ < policy_.dead_after) {
    return {Verdict::kSuspect, Trigger::kHostDead, "host suspect: " + evidence};
  }
  return {Verdict::kFailOver, Trigger::kHostDead,
          "host dead: " + evidence +
              (o.store_reachable.value_or(false) ? ", the store answers the controller" : "")};
}

Decision HealthPolicy::WorkloadDecision(const Observation& o) {
  if (!has_workload_) {
    return {Verdict::kHealthy, Trigger::kHostDead, "host answers (no workload configured)"};
  }
  if (!o.workload_alive) {
    unhealthy_ = 0;
    return RestartOrFailOver(o, "workload is not running");
  }
  if (!has_health_check_ || o.workload_healthy.value_or(true)) {
    unhealthy_ = 0;
    workload_started_ns_.reset();  // it answered: no more start-up grace
    return {Verdict::kHealthy, Trigger::kHostDead, "host and workload answer"};
  }
  const int64_t timeout_ns = std::chrono::nanoseconds(policy_.health_timeout).count();
  if (workload_started_ns_ && o.mono_ns - *workload_started_ns_ < timeout_ns) {
    return {Verdict::kStarting, Trigger::kWorkloadUnhealthy,
            "workload starting: health check not passing yet (" + o.workload_detail + ")"};
  }
  if (++unhealthy_ < policy_.dead_after) {
    return {Verdict::kSuspect, Trigger::kWorkloadUnhealthy,
            "workload health check failing (" + std::to_string(unhealthy_) +
                " in a row: " + o.workload_detail + ")"};
  }
  unhealthy_ = 0;
  return RestartOrFailOver(o, "workload health check failed " + std::to_string(policy_.dead_after) +
                                  " times (" + o.workload_detail + ")");
}

Decision HealthPolicy::RestartOrFailOver(const Observation& o, const std::string& why) {
  const int64_t window_ns = std::chrono::nanoseconds(policy_.restart_window).count();
  while (!restarts_ns_.empty() && o.mono_ns - restarts_ns_.front() > window_ns) {
    restarts_ns_.pop_front();
  }
  if (static_cast<int>(restarts_ns_.size()) < policy_.max_restarts) {
    return {Verdict::kRestartWorkload, Trigger::kWorkloadUnhealthy,
            why + "; restarting it in place (restart " + std::to_string(restarts_ns_.size() + 1) +
                " of " + std::to_string(policy_.max_restarts) + ")"};
  }
  return {Verdict::kFailOver, Trigger::kWorkloadUnhealthy,
          why + " after " + std::to_string(restarts_ns_.size()) + " restarts in place within " +
              std::to_string(policy_.restart_window.count() / 60) + " minutes"};
}

}  // namespace standby
