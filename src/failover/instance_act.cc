// Acting on the health policy's decision (instance_supervisor.h): the state written, a
// workload restarted in place, machines rented on suspicion or given back, a failover begun.
#include "failover/instance_supervisor.h"

namespace standby {

void InstanceSupervisor::Act(const Decision& d, const Observation& o,
                             const std::atomic<bool>& stop) {
  const Verdict previous = last_verdict_;
  last_verdict_ = d.verdict;
  switch (d.verdict) {
    case Verdict::kHealthy:
    case Verdict::kStarting:
      if (speculation_.live()) speculation_.Cancel("the host answered again");
      if (previous != d.verdict) ctx_->Log(spec_.name + ": " + d.reason);
      SetState(ProtectionState::kHealthy, d.reason);
      return;
    case Verdict::kSuspect:
      ctx_->Log(spec_.name + ": " + d.reason);
      MaybeSpeculate(o);
      SetState(ProtectionState::kSuspect, d.reason);
      return;
    case Verdict::kIsolated:
      if (speculation_.live()) MaybeSpeculate(o);  // only its expiry applies
      if (previous != d.verdict) ctx_->Log(spec_.name + ": " + d.reason);
      SetState(ProtectionState::kSuspect, d.reason);
      return;
    case Verdict::kRestartWorkload:
      if (speculation_.live()) speculation_.Cancel("the host answered again");
      ctx_->Log(spec_.name + ": " + d.reason);
      RestartWorkload(o);
      return;
    case Verdict::kFailOver: {
      // The failure a drill caused is recorded as the drill's, and answers its request.
      std::optional<ArmedDrill> drill;
      drill.swap(drill_);
      FailoverStart start;
      start.trigger = drill ? Trigger::kDrill : d.trigger;
      start.first_failure_at_ms =
          policy_.first_failure_at_ms() > 0 ? policy_.first_failure_at_ms() : o.at_ms;
      start.reason = d.reason;
      std::vector<std::string> ids;
      if (drill && !drill->request_id.empty()) ids.push_back(drill->request_id);
      // The database away: nothing began; the next probes decide again.
      StartFailover(start, ids, stop).IgnoreError();
      return;
    }
  }
}

void InstanceSupervisor::MaybeSpeculate(const Observation& o) {
  if (speculation_.live()) {
    // Neither declared dead nor answering well past detection (a workload that still answers
    // users directly, an isolated controller): the machines are not worth keeping.
    const FailoverPolicy& p = spec_.policy;
    const auto bound =
        (p.dead_after + 2) * (p.probe_interval + p.probe_timeout) + std::chrono::seconds(30);
    if (speculation_.age() > bound) {
      speculation_.Cancel("the host was neither declared dead nor answering again in time");
    }
    return;
  }
  // Only where a loading machine costs (next to) nothing — not a static pool, whose hosts
  // others may need — and only while the provider answers: a launch during an API outage
  // would hold up this instance's probes.
  const bool rented = !row_.provider_instance_id.empty() &&
                      row_.provider == ctx_->fleet->provider()->Name() && row_.provider != "pool";
  const bool provider_answers =
      o.provider == ProviderView::kRunning || o.provider == ProviderView::kLoading;
  if (!spec_.policy.speculative_race || !rented || !provider_answers ||
      spec_.policy.dead_after < 2 || o.agent_ok || o.direct_health.value_or(false)) {
    return;
  }
  speculation_.Start(spec_, row_);
}

void InstanceSupervisor::RestartWorkload(const Observation& o) {
  // Its own connection: stopping takes up to the workload's grace period, longer than a
  // probe may.
  auto transport = ctx_->fleet->transports()->Connect(Host());
  transport->SetTimeouts(std::chrono::seconds(30),
                         std::chrono::seconds(spec_.workload.grace_seconds + 30));
  StoreAccess no_store;
  HostAgent agent(transport.get(), &no_store);
  policy_.WorkloadStarted(ctx_->clock->MonotonicNanos(), true);  // counts even if it fails
  if (o.workload_alive) {
    auto stopped = agent.StopWorkload(spec_.name, spec_.workload);
    if (!stopped) {
      std::string line = "workload restart failed: cannot stop it: " + stopped.error().message;
      ctx_->Log(spec_.name + ": " + line);
      return SetState(ProtectionState::kSuspect, line);
    }
  }
  auto started = agent.StartWorkload(spec_.name, spec_.workspace, spec_.workload);
  if (!started) {
    std::string line = "workload restart failed: " + started.error().message;
    ctx_->Log(spec_.name + ": " + line);
    return SetState(ProtectionState::kSuspect, line);
  }
  std::string line =
      "workload restarted in place" +
      (started->pid ? " (pid " + std::to_string(*started->pid) + ")" : std::string());
  ctx_->Log(spec_.name + ": " + line);
  SetState(ProtectionState::kHealthy, line);
}

}  // namespace standby
