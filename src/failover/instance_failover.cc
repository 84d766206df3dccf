// Failovers of one instance (instance_supervisor.h): starting one, running it to its end,
// and settling or resuming one the instance's row says runs.
#include "failover/instance_supervisor.h"
#include "failover/protected_rows.h"

namespace standby {
namespace {

int64_t Nanos(std::chrono::nanoseconds d) { return d.count(); }

bool Claimed(const ProtectedInstance& row) {
  return row.status == ProtectionStateName(ProtectionState::kFailingOver) ||
         row.status == ProtectionStateName(ProtectionState::kPlacing);
}

}  // namespace

FailoverStart InstanceSupervisor::RetryOfFailed() {
  FailoverStart start;
  start.trigger = Trigger::kHostDead;
  start.first_failure_at_ms = NowMillis(ctx_->clock);
  start.reason = "retrying after failed failover " + row_.last_failover_id;
  auto failed = ctx_->state->ListFailoverEvents({.failover_id = row_.last_failover_id});
  if (failed && !failed->empty()) {
    // The outage began with the first failure of the first attempt: MTTR counts from there,
    // and the retry keeps what started it.
    const FailoverEvent& f = failed->front();
    start.trigger = ParseTrigger(f.trigger).value_or(Trigger::kHostDead);
    if (start.trigger == Trigger::kPlanned || start.trigger == Trigger::kInitial) {
      start.trigger = start.trigger == Trigger::kInitial ? Trigger::kInitial : Trigger::kHostDead;
    }
    start.first_failure_at_ms = f.first_failure_at > 0 ? f.first_failure_at : f.started_at;
    start.retry_of = f.retry_of.empty() ? f.failover_id : f.retry_of;
  }
  return start;
}

Status InstanceSupervisor::StartFailover(const FailoverStart& start,
                                         const std::vector<std::string>& request_ids,
                                         const std::atomic<bool>& stop) {
  // Never a failover beside a snapshot of this instance: a planned one waits for it (its
  // final snapshot would race it), others find the host gone and the snapshot failing.
  if (start.planned) WaitForSnapshot(spec_.policy.final_snapshot_timeout);
  // Never from a row the database did not just confirm (a failover may have begun since).
  if (!Reload()) return UnavailableError("the state store did not answer");
  if (Claimed(row_)) return OkStatus();  // one runs: the next Tick settles or resumes it
  auto begun = BeginFailover(ctx_, row_, start);
  if (!begun) {
    ctx_->Log(spec_.name + ": cannot start a failover: " + begun.error().message);
    Reload();
    if (begun.error().code == ErrorCode::kUnavailable) return begun.error();
    for (const std::string& id : request_ids) Answer(id, "", begun.error().message);
    return OkStatus();
  }
  // Requests that arrived since this Tick took its own (this failover may be automatic) are
  // answered by it too: none runs after it and moves the new host again.
  std::vector<RequestRow> overtaken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_failover_ = begun->failover_id;
    for (auto it = requests_.begin(); it != requests_.end();) {
      if (it->kind == "failover" || (it->kind == "drill" && it->planned)) {
        overtaken.push_back(*it);
        it = requests_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const RequestRow& r : overtaken) {
    Answer(r.request_id, begun->failover_id,
           std::string(kAlreadyFailingOver) + ": failover " + begun->failover_id + " of " + name_ +
               " started (" + begun->trigger + ")");
  }
  for (size_t i = 0; i < request_ids.size(); ++i) {
    Answer(request_ids[i], begun->failover_id,
           i == 0 ? "started"
                  : std::string(kAlreadyFailingOver) + ": failover " + begun->failover_id + " of " +
                        name_ + " started for request " + request_ids.front());
  }
  RunFailover(std::move(*begun), stop);
  return OkStatus();
}

void InstanceSupervisor::RunFailover(FailoverEvent row, const std::atomic<bool>& stop) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_failover_ = row.failover_id;
  }
  const ProtectionSpec spec = spec_;
  Recovery recovery(ctx_, spec, std::move(row));
  recovery.SetHeadStart(speculation_.Take());
  auto finished = recovery.Run(&stop);
  policy_.Reset();
  probe_transport_.reset();
  last_verdict_ = Verdict::kHealthy;
  if (drill_) {
    // Another failover replaced the host the drill had killed.
    if (!drill_->request_id.empty()) {
      Answer(drill_->request_id, "", "superseded by failover " + recovery.row().failover_id);
    }
    drill_.reset();
  }
  Reload();
  if (!finished) {
    if (stop.load()) {  // the controller stops or the instance was unprotected
      ctx_->Log(spec.name + ": failover " + recovery.row().failover_id + " paused in " +
                recovery.row().phase + ": this process stops; the next to run resumes it");
      return;
    }
    // Paused (its claim lost, the database away, a crash point): resumed here after a
    // backoff once it can be claimed again, never left for the life of the process.
    resume_backoff_ = std::clamp(resume_backoff_ * 2, std::chrono::milliseconds(2000),
                                 std::chrono::milliseconds(60000));
    resume_at_ns_ = ctx_->clock->MonotonicNanos() + Nanos(resume_backoff_);
    ctx_->Log(spec.name + ": failover " + recovery.row().failover_id + " paused in " +
              recovery.row().phase + ": " + finished.error().message + "; resuming in " +
              std::to_string(resume_backoff_.count() / 1000) + " s");
    return;
  }
  resume_backoff_ = std::chrono::milliseconds(0);
  if (finished->phase == FailoverPhaseName(FailoverPhase::kFailed)) {
    retry_failover_ns_ = ctx_->clock->MonotonicNanos() + Nanos(spec.policy.retry_backoff);
  } else {
    next_snapshot_ns_ = -1;  // recomputed from the restored snapshot's age
  }
  next_drill_ns_ = -1;  // recomputed from the last drill's end
}

void InstanceSupervisor::TickClaimed(const std::atomic<bool>& stop) {
  std::deque<RequestRow> inbox;
  {
    std::lock_guard<std::mutex> lock(mu_);
    inbox.swap(requests_);
    running_failover_ = row_.last_failover_id;
  }
  for (const RequestRow& r : inbox) Request(r);  // answered at once: a failover runs
  if (speculation_.live()) speculation_.Cancel("a failover of " + name_ + " runs elsewhere");
  if (ctx_->clock->MonotonicNanos() < resume_at_ns_) return;
  const int64_t now = NowMillis(ctx_->clock);
  auto rows = ctx_->state->ListFailoverEvents({.failover_id = row_.last_failover_id});
  auto later = [&](std::chrono::milliseconds wait) {
    resume_at_ns_ = ctx_->clock->MonotonicNanos() + Nanos(wait);
  };
  if (!rows) return later(std::chrono::seconds(5));
  if (rows->empty()) {
    // Claimed for a failover whose row was never written (a controller of an older version
    // died between the two): once nobody could still be writing it, the claim is undone.
    if (now - row_.updated_at < ctx_->claim_ttl.count()) return later(ctx_->claim_ttl);
    ctx_->Log(name_ + ": was marked failing over by a failover that never started; watching it");
    auto fixed = UpdateProtectedRow(ctx_, name_, [&](ProtectedInstance& p) {
      if (!Claimed(p) || p.last_failover_id != row_.last_failover_id) return false;
      p.status = std::string(ProtectionStateName(ProtectionState::kSuspect));
      p.health_detail = "a failover that never started was undone";
      return true;
    });
    if (!fixed) {
      ctx_->Log(name_ + ": undoing it failed (" + fixed.error().message + "); trying again");
      return later(std::chrono::seconds(5));
    }
    Reload();  // (or the next Tick)
    return;
  }
  FailoverEvent e = rows->front();
  if (e.completed_at > 0) {
    // It ended but its instance was not told (its process died between the two writes).
    auto applied = ApplyFailoverOutcome(ctx_, e);
    if (!applied) {
      ctx_->Log(name_ + ": cannot settle failover " + e.failover_id + " (" +
                applied.error().message + "); trying again");
      return later(std::chrono::seconds(5));
    }
    ctx_->Log(name_ + ": failover " + e.failover_id + " had ended " + e.phase +
              "; its outcome is recorded on the instance now");
    Reload();  // (or the next Tick)
    return;
  }
  const bool mine = e.claimed_by == ctx_->ProcessId();
#ifdef STANDBY_PLANTED_BUG_ADOPT_LIVE_FAILOVER
  // The simulation's planted bug (a test build only): a live process's claim is ignored.
  ctx_->Log(name_ + ": resuming failover " + e.failover_id + " from " + e.phase);
  return RunFailover(std::move(e), stop);
#endif
  if (!mine && e.claim_expires_at >= now) {
    if (claimed_elsewhere_ != e.failover_id) {
      claimed_elsewhere_ = e.failover_id;
      ctx_->Log(name_ + ": failover " + e.failover_id + " is run by " + e.claimed_by +
                "; leaving it to that process while its claim is renewed");
    }
    return later(std::chrono::milliseconds(e.claim_expires_at - now + 1));
  }
  // What was spooled (by this process, or one that died) may hold newer rows of it.
  if (Status flushed = ctx_->state->FlushPending(); !flushed) return later(std::chrono::seconds(5));
  auto fresh = ctx_->state->ListFailoverEvents({.failover_id = e.failover_id});
  if (!fresh || fresh->empty()) return later(std::chrono::seconds(5));
  e = fresh->front();
  if (e.completed_at > 0) return later(std::chrono::milliseconds(0));  // settled next Tick
  auto claimed = ctx_->state->ClaimFailover(e.failover_id, ctx_->ProcessId(), now,
                                            now + ctx_->claim_ttl.count());
  if (!claimed || !*claimed) return later(std::chrono::seconds(claimed ? 1 : 5));
  ctx_->Log(name_ + ": resuming failover " + e.failover_id + " from " + e.phase +
            (mine || e.claimed_by.empty() ? std::string()
                                          : " (its process " + e.claimed_by + " stopped)"));
  RunFailover(std::move(e), stop);
}

}  // namespace standby
