// The phases of a failover after the replacement is rented: restore, validate, start,
// check, and the endings (recovery.h has the state machine).
#include "base/strings.h"
#include "failover/fencing.h"
#include "failover/protected_rows.h"
#include "failover/recovery.h"
#include "provision/ownership.h"

namespace standby {
namespace {

constexpr int kCheckAgentFailures = 3;  // the replacement stops answering while checked

}  // namespace

Status Recovery::Restore() {
  if (no_snapshot_ || row_.snapshot_id.empty()) {
    Timing("restoring", NowMillis(ctx_->clock), true, "no snapshot to restore");
    Timing("validating", NowMillis(ctx_->clock), true, "no snapshot to validate");
    return Persist(FailoverPhase::kFencing);
  }
  const int64_t start = NowMillis(ctx_->clock);
  const bool delta = row_.workload_stopped_at > 0 && PreCopy();
  ctx_->Log(spec_.name + ": failover " + row_.failover_id + ": restoring " + row_.snapshot_id +
            " onto " + row_.new_instance_id + (delta ? " (only what changed since the copy)" : ""));
  auto transport = JobTransport(NewHost());
  const StoreAccess& store = HostStore();
  HostAgent agent(transport.get(), &store);
  double persisted = row_.progress;
  auto on_event = [&](const AgentEvent& e) {
    if (e.type != "progress" || !e.body.contains("percent") || !e.body["percent"].is_number()) {
      return;
    }
    double percent = e.body["percent"].get<double>();
    if (percent >= persisted + 10 || (percent >= 100 && persisted < 100)) {
      persisted = percent;
      row_.progress = percent;
      // `status` shows "restoring 45%"; a lost update costs nothing.
      Save().IgnoreError();
    }
  };
  // Over what is there: a rerun resumes, and a planned move's second pass fetches only the
  // chunks its final snapshot changed.
  auto restored =
      agent.Restore(spec_.name, row_.snapshot_id, spec_.workspace, {.overwrite = true}, on_event);
  RETURN_IF_ERROR(CheckStop());
  if (!restored) {
    Timing(delta ? "restoring_delta" : "restoring", start, false, restored.error().message);
    return ReplacementFailed("restoring", restored.error());
  }
  row_.restore_ms += NowMillis(ctx_->clock) - start;
  row_.bytes_restored += restored->bytes_restored;
  row_.files_restored = restored->files_restored;
  row_.files_expected = restored->files_expected;
  row_.progress = 100;
  Timing(delta ? "restoring_delta" : "restoring", start, true);
  return Persist(FailoverPhase::kValidating);
}

Status Recovery::Validate() {
  const int64_t start = NowMillis(ctx_->clock);
  auto transport = JobTransport(NewHost());
  const StoreAccess& store = HostStore();
  auto verified =
      HostAgent(transport.get(), &store).Verify(spec_.name, row_.snapshot_id, spec_.workspace);
  RETURN_IF_ERROR(CheckStop());
  if (!verified) {
    Timing("validating", start, false, verified.error().message);
    return ReplacementFailed("validating", verified.error());
  }
  row_.validation_ms += NowMillis(ctx_->clock) - start;
  row_.files_restored = verified->files_restored;
  row_.files_expected = verified->files_expected;
#ifdef STANDBY_PLANTED_BUG_ACCEPT_FAILED_VALIDATION
  const bool failed = false;  // the simulation's planted bug: a failed validation passes
#else
  const bool failed = verified->validation != Validation::kOk;
#endif
  if (failed) {
    std::string why = "validation failed: " + std::to_string(verified->files_restored) + " of " +
                      std::to_string(verified->files_expected) + " files match snapshot " +
                      row_.snapshot_id;
    Timing("validating", start, false, why);
    // Twice on two machines is the snapshot (or the restore), not the machine: fail fast.
    if (++validation_failures_ >= 2) {
      DiscardReplacement("validating", CorruptionError(why));
      return Fail("validating", why);
    }
    return ReplacementFailed("validating", CorruptionError(why));
  }
  Timing("validating", start, true);
  ctx_->Log(spec_.name + ": failover " + row_.failover_id +
            ": {\"validation\":\"ok\",\"files_restored\":" + std::to_string(row_.files_restored) +
            ",\"files_expected\":" + std::to_string(row_.files_expected) + "}");
  // A planned move copied the latest snapshot while the old host served: now the old
  // workload stops and its last changes follow.
  const bool final_snapshot_due = PreCopy() && !row_.no_stop && row_.workload_stopped_at == 0;
  return Persist(final_snapshot_due ? FailoverPhase::kFinalSnapshot : FailoverPhase::kFencing);
}

Status Recovery::Start() {
  if (spec_.workload.command.empty()) return Finish();
  const int64_t start = NowMillis(ctx_->clock);
  auto transport = JobTransport(NewHost());
  const StoreAccess& store = HostStore();
  auto started =
      HostAgent(transport.get(), &store).StartWorkload(spec_.name, spec_.workspace, spec_.workload);
  RETURN_IF_ERROR(CheckStop());
  if (!started) {
    Timing("starting", start, false, started.error().message);
    return ReplacementFailed("starting", started.error());
  }
  row_.workload_start_ms = NowMillis(ctx_->clock) - start;
  Timing("starting", start, true);
  return Persist(FailoverPhase::kChecking);
}

Status Recovery::Check() {
  const int64_t start = NowMillis(ctx_->clock);
  const int64_t deadline =
      ctx_->clock->MonotonicNanos() +
      std::chrono::duration_cast<std::chrono::nanoseconds>(spec_.policy.health_timeout).count();
  const auto interval = std::clamp<std::chrono::milliseconds>(spec_.policy.probe_interval / 4,
                                                              std::chrono::milliseconds(100),
                                                              std::chrono::milliseconds(1000));
  auto transport = JobTransport(NewHost());
  const StoreAccess& store = HostStore();
  // Each check is one probe: bounded as the supervisor's are.
  transport->SetTimeouts(spec_.policy.probe_timeout, spec_.policy.probe_timeout);
  HostAgent agent(transport.get(), &store);
  const bool has_check = spec_.workload.HasCheck();
  int agent_failures = 0;
  std::string last = "no answer yet";
  while (true) {
    auto health = agent.Health(spec_.name, spec_.workspace, spec_.workload);
    RETURN_IF_ERROR(CheckStop());
    if (health) {
      agent_failures = 0;
      if (!health->workload_alive) {
        last = "the workload is not running";
      } else if (has_check && !health->workload_healthy.value_or(false)) {
        last = health->workload_detail;
      } else {
        break;
      }
    } else if (++agent_failures >= kCheckAgentFailures) {
      Timing("checking", start, false, health.error().message);
      return ReplacementFailed("checking", health.error());
    } else {
      last = health.error().message;
    }
    if (ctx_->clock->MonotonicNanos() >= deadline) {
      std::string why = "the workload's health check did not pass within " +
                        std::to_string(spec_.policy.health_timeout.count()) + " s (" + last + ")";
      Timing("checking", start, false, why);
      return ReplacementFailed("checking", DeadlineExceededError(why));
    }
    if (!ctx_->clock->SleepUnless(interval, halt_)) return CheckStop();
  }
  row_.health_check_ms = NowMillis(ctx_->clock) - start;
  Timing("checking", start, true);
  return Finish();
}

Status Recovery::Finish() {
  if (row_.no_stop && PreCopy() && row_.fence != "confirmed") {
    // Make before break: the new host passed; now the old one stops serving.
    int tries = 0;
    RecordFence(FenceWithRetries([&] { return ++tries < 3; }));
    if (row_.fence != "confirmed") {
      row_.fence = "pending";
      ctx_->Notify([&](ControllerObserver& o) { o.FenceChanged(row_); });
    }
  }
  const int64_t now = NowMillis(ctx_->clock);
  row_.completed_at = now;
  row_.total_ms = now - row_.first_failure_at;
  if (row_.workload_stopped_at > 0) row_.pause_ms = now - row_.workload_stopped_at;
  row_.success = true;
  row_.progress = 100;
  auto instance = ctx_->state->GetProtectedInstance(spec_.name);
  if (instance && !*instance) {
    // Unprotected while it failed over: nothing serves it any more.
    DiscardReplacement("done", UnavailableError("the instance was unprotected"));
    return Fail("done", spec_.name + " was unprotected during the failover; replacement destroyed");
  }
  // The record first, then the instance (ApplyFailoverOutcome): a controller killed between
  // the two finds the instance still failing over and applies the finished row, once.
  row_.phase = std::string(FailoverPhaseName(FailoverPhase::kDone));
  RETURN_IF_ERROR(Save());
  RETURN_IF_ERROR(WriteOutcome());
  ctx_->Log(spec_.name + ": failover " + row_.failover_id + " done: " + row_.new_instance_id +
            " at " + row_.new_ssh_host + ":" + std::to_string(row_.new_ssh_port) +
            " serves; MTTR " + HumanSeconds(row_.total_ms / 1000.0) + " (detection " +
            HumanSeconds(row_.detection_ms / 1000.0) + ", provisioning " +
            HumanSeconds(row_.gpu_provisioning_time_ms / 1000.0) + ", restore " +
            HumanSeconds(row_.restore_ms / 1000.0) + ", validation " +
            HumanSeconds(row_.validation_ms / 1000.0) + ", start " +
            HumanSeconds(row_.workload_start_ms / 1000.0) + ", check " +
            HumanSeconds(row_.health_check_ms / 1000.0) + ")" +
            (row_.workload_stopped_at > 0 && row_.planned
                 ? "; the workload paused " + HumanSeconds(row_.pause_ms / 1000.0)
                 : "") +
            (row_.fence == "pending" ? "; the old host's fence is pending" : ""));
  return OkStatus();
}

void Recovery::DiscardReplacement(const std::string& phase, const Error& error) {
  const std::string failed = row_.new_instance_id;
  ctx_->Log(spec_.name + ": failover " + row_.failover_id + ": replacement " + failed +
            " failed while " + phase + " (" + error.message + "); blacklisting and destroying it");
  AddNote("replacement " + failed + " failed while " + phase + ": " + error.message);
  if (!row_.new_machine_id.empty()) {
    ctx_->fleet->Blacklist(row_.new_machine_id, "failed while " + phase);
  }
  Provider* provider = ctx_->fleet->provider();
  if (!failed.empty() && !provider->DestroyStopsMachine() && !row_.new_ssh_host.empty() &&
      (phase == "starting" || phase == "checking")) {
    // A pool's release leaves the machine running: its workload is stopped first, so a
    // machine handed back to the pool never serves this instance beside its next host.
    Status stopped = StopWorkloadConfirmed(ctx_, spec_.name, spec_.workspace, NewHost(),
                                           spec_.workload, spec_.policy.probe_timeout);
    if (!stopped) AddNote("the workload on " + failed + " was not confirmed stopped");
  }
  if (!failed.empty()) {
    Status gone = DestroyAndConfirm(ctx_->fleet->provider(), ctx_->state, failed, ctx_->clock,
                                    {.instance_id = spec_.name});
    if (!gone) AddNote(gone.error().message);  // pending: retried until confirmed
  }
  row_.new_instance_id.clear();
  row_.new_machine_id.clear();
  row_.new_ssh_host.clear();
  row_.new_ssh_port = 0;
  row_.progress = 0;
}

Status Recovery::ReplacementFailed(const std::string& phase, const Error& error) {
  DiscardReplacement(phase, error);
  if (row_.attempts >= spec_.policy.max_attempts) {
    return Fail(phase, "every replacement failed (" + std::to_string(row_.attempts) +
                           " machines); last: " + error.message);
  }
  return Persist(FailoverPhase::kReplacing);
}

Status Recovery::Fail(const std::string& phase, const std::string& reason) {
  // Nothing it rented may outlive it: a race interrupted after its winner was owned but
  // before this row named it leaves a labelled machine only this sweep finds.
  DestroyLeftovers();
  const int64_t now = NowMillis(ctx_->clock);
  row_.phase = std::string(FailoverPhaseName(FailoverPhase::kFailed));
  row_.failure_phase = phase;
  row_.failure_reason = reason;
  row_.success = false;
  row_.completed_at = now;
  row_.total_ms = now - row_.first_failure_at;
  RETURN_IF_ERROR(Save());
  ctx_->Log(spec_.name + ": failover " + row_.failover_id + " failed while " + phase + ": " +
            reason);
  // Until the instance reads the outcome, the supervisor would wait on a failover that ended.
  return WriteOutcome();
}

Status Recovery::WriteOutcome() {
  auto backoff = std::chrono::milliseconds(250);
  while (true) {
    auto applied = ApplyFailoverOutcome(ctx_, row_);
    if (applied) return OkStatus();
    ctx_->Log(spec_.name + ": failover " + row_.failover_id +
              ": cannot record its outcome on the instance yet (" + applied.error().message +
              "); retrying");
    RETURN_IF_ERROR(CheckStop());
    ctx_->clock->SleepFor(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

}  // namespace standby
