// Fencing the old host (the gate before the new workload starts) and a planned move's final
// snapshot (recovery.h has the state machine; fencing.h what "fenced" means).
#include <thread>

#include "failover/protected_rows.h"
#include "failover/recovery.h"
#include "provision/ownership.h"

namespace standby {

FenceResult Recovery::FenceWithRetries(const std::function<bool()>& keep_trying) {
  auto backoff = std::chrono::milliseconds(1000);
  while (true) {
    FenceResult fenced = FenceOldHost(ctx_, Old(), spec_.policy.probe_timeout);
    if (fenced.confirmed || Halted() || !keep_trying()) return fenced;
    ctx_->clock->SleepUnless(backoff, halt_);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(15000));
  }
}

void Recovery::RecordFence(const FenceResult& fenced) {
  const int64_t now = NowMillis(ctx_->clock);
  const bool was_open = row_.fence == "pending" || row_.fence == "waiting";
  row_.fence_detail = fenced.detail;
  if (fenced.confirmed) {
    row_.fence = "confirmed";
    row_.fenced_at = now;
    Timing("fencing", row_.detected_at, true);
  }
  ctx_->Log(spec_.name + ": failover " + row_.failover_id + ": fencing " +
            (fenced.confirmed ? "confirmed: " : "unconfirmed: ") + fenced.detail);
  if (fenced.confirmed && was_open) {
    ctx_->Notify([&](ControllerObserver& o) { o.FenceChanged(row_); });
  }
}

Status Recovery::FenceGate() {
  const bool has_old = !row_.original_ssh_host.empty() || !row_.original_instance_id.empty();
  if (!has_old) return Persist(FailoverPhase::kStarting);  // a placement: nothing to fence
  if (PreCopy() && row_.no_stop) {
    return Persist(FailoverPhase::kStarting);  // make before break: fenced after the check
  }
  if (PreCopy() && row_.workload_stopped_at > 0 && row_.fence == "confirmed") {
    // The old workload stopped (confirmed) for the final snapshot: its machine goes now.
    // A destroy or release the provider does not confirm is pending, not a fence matter.
    FenceResult gone = FenceOldHost(ctx_, Old(), spec_.policy.probe_timeout);
    row_.fence_detail +=
        gone.confirmed ? "; " + gone.detail : "; machine not yet gone: " + gone.detail;
    return Persist(FailoverPhase::kStarting);
  }
  if (row_.fence == "confirmed") return Persist(FailoverPhase::kStarting);
#ifdef STANDBY_PLANTED_BUG_IGNORE_UNCONFIRMED_FENCE
  // The simulation's planted bug (a test build only): an unconfirmed fence is taken as done.
  row_.fence = "confirmed";
  return Persist(FailoverPhase::kStarting);
#endif
  if (spec_.policy.fence_unconfirmed == FenceUnconfirmed::kProceed) {
    int tries = 0;
    RecordFence(FenceWithRetries([&] { return ++tries < 2; }));
    if (row_.fence != "confirmed") {
      row_.fence = "pending";
      AddNote("the old host could not be fenced (" + row_.fence_detail +
              "): the new host serves (fencing.unconfirmed = proceed) and the controller "
              "fences the old one the moment it answers");
      ctx_->Notify([&](ControllerObserver& o) { o.FenceChanged(row_); });
    }
    return Persist(FailoverPhase::kStarting);
  }
  // fencing.unconfirmed = wait: the new workload does not start before the old is fenced, by
  // the controller or by an operator's word (`standby fence confirm`).
  if (row_.fence != "waiting") {
    row_.fence = "waiting";
    RETURN_IF_ERROR(Save());
    ctx_->Notify([&](ControllerObserver& o) { o.FenceChanged(row_); });
  }
  bool operator_confirmed = false;
  FenceResult fenced = FenceWithRetries([&] {
    auto stored = ctx_->state->ListFailoverEvents({.failover_id = row_.failover_id});
    if (stored && !stored->empty() && stored->front().fence == "confirmed") {
      operator_confirmed = true;
      row_.fence = "confirmed";
      row_.fenced_at = stored->front().fenced_at;
      row_.fence_detail = stored->front().fence_detail;
      return false;
    }
    return true;
  });
  if (!operator_confirmed) {
    RecordFence(fenced);
  } else if (!row_.original_instance_id.empty() &&
             row_.provider == ctx_->fleet->provider()->Name()) {
    // On the operator's word the old host is gone: its rental or pool claim ends too.
    Status gone = DestroyAndConfirm(ctx_->fleet->provider(), ctx_->state, row_.original_instance_id,
                                    ctx_->clock, {.instance_id = spec_.name});
    row_.fence_detail += gone ? "; instance " + row_.original_instance_id + " released"
                              : "; " + gone.error().message;
    ctx_->Log(spec_.name + ": failover " + row_.failover_id + ": " + row_.fence_detail);
  }
  RETURN_IF_ERROR(CheckStop());
  return Persist(FailoverPhase::kStarting);
}

Status Recovery::FinalSnapshot() {
  const int64_t start = NowMillis(ctx_->clock);
  const OldHost old = Old();
  if (row_.workload_stopped_at == 0) {
    // The pause begins: nothing writes to the workspace from here on.
    Status stopped = StopWorkloadConfirmed(ctx_, spec_.name, spec_.workspace, old.ssh,
                                           spec_.workload, spec_.policy.probe_timeout);
    RETURN_IF_ERROR(CheckStop());
    // Whatever the reason (a refusal, a timeout, a blip of SSH), a stop that is not
    // confirmed abandons the move: going on from the pre-copied snapshot would lose what
    // was written since. A host that really died is then detected and failed over as any.
    if (!stopped) {
      Timing("final_snapshot", start, false, stopped.error().message);
      return AbandonPlannedMove("its workload's stop was not confirmed: " +
                                stopped.error().message);
    }
    row_.workload_stopped_at = NowMillis(ctx_->clock);
    row_.fence = "confirmed";
    row_.fenced_at = row_.workload_stopped_at;
    row_.fence_detail = "workload stopped on " + old.ssh.Describe() +
                        " for the final snapshot (the agent confirms it no longer runs)";
    RETURN_IF_ERROR(Save());
  }
  auto transport = JobTransport(old.ssh);
  // Bounded: a watchdog cancels the job at final_snapshot_timeout, and the transport's job
  // deadline holds the bound too.
  transport->SetTimeouts(std::chrono::seconds(30), spec_.policy.final_snapshot_timeout,
                         std::chrono::seconds(30));
  std::atomic<bool> cancel{false};
  transport->SetCancelFlag(&cancel);
  StopSignal finished;
  auto watchdog = ctx_->executor->Spawn(spec_.name + "/final-snapshot-watchdog", [&] {
    const int64_t deadline = ctx_->clock->MonotonicNanos() +
                             std::chrono::nanoseconds(spec_.policy.final_snapshot_timeout).count();
    while (!finished.IsSet()) {
      const int64_t left = deadline - ctx_->clock->MonotonicNanos();
      if (left <= 0 || Halted()) {
        cancel = true;
        return;
      }
      ctx_->clock->WaitUnless(std::min<std::chrono::nanoseconds>(std::chrono::milliseconds(500),
                                                                 std::chrono::nanoseconds(left)),
                              finished);
    }
  });
  const StoreAccess& store = HostStore();
  HostAgent agent(transport.get(), &store);
  auto snap = agent.Snapshot(spec_.name, spec_.workspace, false, ctx_->snapshot_job);
  finished.Set();
  watchdog->Join();
  RETURN_IF_ERROR(CheckStop());
  row_.snapshot_ms = NowMillis(ctx_->clock) - start;
  if (!snap) {
    const bool timed_out =
        cancel || (snap.error().code == ErrorCode::kDeadlineExceeded &&
                   row_.snapshot_ms >= spec_.policy.final_snapshot_timeout.count() * 1000);
    std::string why = timed_out
                          ? "timed out after " +
                                std::to_string(spec_.policy.final_snapshot_timeout.count()) + " s"
                          : snap.error().message;
    Timing("final_snapshot", start, false, why);
    // Not a periodic snapshot's failure: no run of failures is counted.
    ctx_->Notify([&](ControllerObserver& o) { o.SnapshotFinished(spec_.name, nullptr, 0, why); });
    return AbandonPlannedMove("the final snapshot failed (" + why + ")");
  }
  row_.snapshot_id = snap->snapshot_id;
  row_.snapshot_type = snap->snapshot_type;
  row_.base_snapshot_id = snap->base_snapshot_id;
  row_.files_changed = snap->files_changed;
  Timing("final_snapshot", start, true);
  const SnapshotRow taken = SnapshotRowOf(*snap, spec_.name, NowMillis(ctx_->clock));
  // The final snapshot is the instance's last snapshot too (status, metrics).
  Status recorded = RecordSnapshotTaken(ctx_, taken);
  if (!recorded) {
    ctx_->Log(spec_.name + ": failover " + row_.failover_id + ": recording final snapshot " +
              taken.snapshot_id + " failed (" + recorded.error().message +
              "); the failover goes on: the snapshot is in the repository");
  }
  ctx_->Notify([&](ControllerObserver& o) { o.SnapshotFinished(spec_.name, &taken, 0, ""); });
  ctx_->Log(spec_.name + ": failover " + row_.failover_id + ": final snapshot " +
            snap->snapshot_id + " taken with the workload stopped; restoring what it changed");
  return Persist(FailoverPhase::kRestoring);
}

Status Recovery::AbandonPlannedMove(const std::string& why) {
  const OldHost old = Old();
  std::string restarted;
  if (row_.workload_stopped_at > 0 && !spec_.workload.command.empty()) {
    auto transport = JobTransport(old.ssh);
    StoreAccess no_store;
    auto started = HostAgent(transport.get(), &no_store)
                       .StartWorkload(spec_.name, spec_.workspace, spec_.workload);
    restarted = started ? "; its workload was started again there"
                        : "; starting its workload again failed (" + started.error().message +
                              "): the controller's probes take it from here";
  }
  // Nothing moved and nothing of the old host was fenced: it serves on.
  row_.workload_stopped_at = 0;
  row_.fence.clear();
  row_.fenced_at = 0;
  row_.fence_detail.clear();
  DiscardReplacement("final_snapshot", UnavailableError(why));
  return Fail("final_snapshot", "planned move abandoned: " + why + "; " + spec_.name +
                                    " stays on " + old.ssh.Describe() + restarted);
}

}  // namespace standby
