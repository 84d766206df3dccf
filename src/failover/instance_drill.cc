// Drills of one instance (instance_supervisor.h): a kill drill fails the host on purpose and
// lets detection and recovery run exactly as for a real failure; a scheduled drill runs one
// every drill_every. Both are recorded with trigger `drill`.
#include "base/strings.h"
#include "failover/instance_supervisor.h"

namespace standby {
namespace {

constexpr int64_t kNsPerMs = 1'000'000;

int64_t Nanos(std::chrono::nanoseconds d) { return d.count(); }

}  // namespace

void InstanceSupervisor::StartKillDrill(const std::string& request_id) {
  auto answer = [&](const std::string& result) {
    if (!request_id.empty()) {
      Answer(request_id, "", result);
    }
  };
  const bool tracked =
      !row_.provider_instance_id.empty() && row_.provider == ctx_->fleet->provider()->Name();
  Status killed = tracked ? ctx_->fleet->DrillKill(row_.provider_instance_id)
                          : InvalidArgumentError("the host is not rented from a provider");
  bool host_lost = false;
  if (killed) {
    ctx_->Log(spec_.name + ": drill: killed its host " + row_.provider_instance_id + " at " +
              Host().Describe() + "; detection runs as for a real failure");
  } else if (killed.error().code == ErrorCode::kInvalidArgument) {
    // No way to kill the machine (a static pool, an adopted host): its workload stops and
    // the controller treats the host as lost, so detection and recovery still run for real.
    auto transport = ctx_->fleet->transports()->Connect(Host());
    transport->SetTimeouts(std::chrono::seconds(30),
                           std::chrono::seconds(spec_.workload.grace_seconds + 30));
    StoreAccess no_store;
    if (!spec_.workload.command.empty()) {
      auto stopped = HostAgent(transport.get(), &no_store).StopWorkload(spec_.name, spec_.workload);
      if (!stopped) {
        ctx_->Log(spec_.name + ": drill: could not stop the workload (" + stopped.error().message +
                  "); the host is treated as lost all the same");
      }
    }
    host_lost = true;
    ctx_->Log(spec_.name + ": drill: " + killed.error().message +
              "; stopped its workload and treats the host as lost");
  } else {
    ctx_->Log(spec_.name + ": drill: cannot kill its host: " + killed.error().message);
    return answer("drill: cannot kill the host: " + killed.error().message);
  }
  // Detection needs dead_after failed probes, each up to probe_timeout, one per interval.
  const FailoverPolicy& p = spec_.policy;
  const int64_t detection_ns =
      (p.dead_after + 3) * (Nanos(p.probe_interval) + Nanos(p.probe_timeout));
  drill_ = ArmedDrill{request_id, ctx_->clock->MonotonicNanos() + detection_ns + 30'000'000'000,
                      host_lost};
}

void InstanceSupervisor::ExpireDrill(const Decision& d) {
  if (!drill_ || ctx_->clock->MonotonicNanos() < drill_->deadline_ns) return;
  if (d.verdict == Verdict::kSuspect || d.verdict == Verdict::kIsolated) return;  // still deciding
  const std::string line = "drill: the host still answers after it was killed; no failover";
  ctx_->Log(spec_.name + ": " + line);
  if (!drill_->request_id.empty()) {
    Answer(drill_->request_id, "", line);
  }
  drill_.reset();
}

void InstanceSupervisor::MaybeScheduledDrill(const std::atomic<bool>& stop) {
  if (spec_.drill_every.count() == 0 || drill_) return;
  const int64_t now_ns = ctx_->clock->MonotonicNanos();
  const int64_t interval_ns = Nanos(spec_.drill_every);
  // ±10%, so instances protected together are not drilled together.
  auto jittered = [&] {
    return interval_ns + static_cast<int64_t>((ctx_->random->Uniform() - 0.5) * 0.2 * interval_ns);
  };
  if (next_drill_ns_ < 0) {
    // The schedule counts from the end of the last drill (or from the protection, before
    // the first), so neither a restarted controller nor a long drill makes one come early.
    // One overdue is spread over up to a tenth of the interval (at most 10 minutes), so
    // instances overdue together after a restart are not drilled together.
    int64_t last_ms = row_.created_at;
    if (auto events = ctx_->state->ListFailoverEvents({.instance_id = spec_.name})) {
      for (const FailoverEvent& e : *events) {
        if (e.trigger != TriggerName(Trigger::kDrill)) continue;
        last_ms = std::max(last_ms, e.completed_at > 0 ? e.completed_at : e.started_at);
      }
    }
    const int64_t age_ns = last_ms > 0 ? (NowMillis(ctx_->clock) - last_ms) * kNsPerMs : 0;
    const int64_t spread =
        static_cast<int64_t>(ctx_->random->Uniform() * static_cast<double>(std::min<int64_t>(
                                                           interval_ns / 10, 600'000'000'000)));
    next_drill_ns_ = now_ns + std::max<int64_t>(spread, jittered() - age_ns);
  }
  if (now_ns < next_drill_ns_) return;
  if (snapshot_running_ && snapshot_running_->load()) return;  // the next probe, then
  next_drill_ns_ = now_ns + jittered();
  const std::string every = std::to_string(spec_.drill_every.count()) + " s";
  auto running = ctx_->state->ListFailoverEvents({.unfinished_only = true});
  if (!running || !running->empty()) {
    ctx_->Log(spec_.name + ": scheduled drill skipped: " +
              (running ? "failover " + running->front().failover_id + " runs"
                       : "the state store did not answer: " + running.error().message));
    return;
  }
  auto offers = ctx_->fleet->Offers(spec_.filter);
  if (!offers || offers->empty()) {
    ctx_->Log(spec_.name + ": scheduled drill skipped: " +
              (offers ? ctx_->fleet->NoOfferMatches(spec_.filter).message
                      : "cannot search offers: " + offers.error().message));
    return;
  }
  if (spec_.drill_kill) {
    ctx_->Log(spec_.name + ": scheduled drill (every " + every + "): killing the host");
    return StartKillDrill("");
  }
  ctx_->Log(spec_.name + ": scheduled drill (every " + every + "): a planned move");
  FailoverStart start;
  start.trigger = Trigger::kDrill;
  start.planned = true;
  start.first_failure_at_ms = NowMillis(ctx_->clock);
  start.reason = "scheduled drill (every " + every + ")";
  StartFailover(start, {}, stop).IgnoreError();  // the database away: the next due time
}

}  // namespace standby
