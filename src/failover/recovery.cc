#include "failover/recovery.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include "base/strings.h"
#include "failover/protected_rows.h"
#include "failover/speculation.h"
#include "provision/ownership.h"
#include "snapshot/repository.h"

namespace standby {
Recovery::Recovery(ControllerContext* ctx, ProtectionSpec spec, FailoverEvent row)
    : ctx_(ctx),
      spec_(std::move(spec)),
      host_store_{spec_.repo, ctx->host_store_settings, nullptr},
      row_(std::move(row)) {
  try {
    timings_ = nlohmann::json::parse(row_.phase_timings_json);
  } catch (const std::exception&) {
    timings_ = nlohmann::json::object();
  }
  if (!timings_.is_object()) timings_ = nlohmann::json::object();
}

HostAddress Recovery::NewHost() const { return NewHostOf(row_, spec_.ssh_user); }

Recovery::~Recovery() {
  for (const HeadStartCandidate& c : head_start_) {
    ctx_->Log(spec_.name + ": failover " + row_.failover_id + ": destroying " + c.instance.id +
              ", rented on suspicion and not raced");
    DestroyAndConfirm(ctx_->fleet->provider(), ctx_->state, c.instance.id, ctx_->clock);
  }
}

std::unique_ptr<AgentTransport> Recovery::JobTransport(const HostAddress& host) {
  auto transport = LongJobTransport(ctx_, host);
  transport->SetCancelFlag(stop_);
  return transport;
}

Status Recovery::Save() {
  {
    std::lock_guard<std::mutex> lock(timings_mu_);
    row_.phase_timings_json = timings_.dump();
  }
  row_.updated_at = NowMillis(ctx_->clock);
  RETURN_IF_ERROR(ctx_->state->RecordFailoverEvent(row_));
  Notify();
  return OkStatus();
}

void Recovery::Notify() {
  if (row_.phase == notified_phase_) return;
  notified_phase_ = row_.phase;
  ctx_->Notify([&](ControllerObserver& o) { o.FailoverPhase(row_); });
}

Status Recovery::Persist(FailoverPhase phase) {
  row_.phase = std::string(FailoverPhaseName(phase));
  RETURN_IF_ERROR(Save());
  if (ctx_->crash_after_persist && ctx_->crash_after_persist(row_.failover_id, phase)) {
    return UnavailableError("controller stopped (crash point) after persisting " + row_.phase);
  }
  return OkStatus();
}

void Recovery::Timing(const std::string& phase, int64_t start_ms, bool ok,
                      const std::string& error) {
  const int64_t end = NowMillis(ctx_->clock);
  std::lock_guard<std::mutex> lock(timings_mu_);
  timings_[phase] = {{"start_ms", start_ms},
                     {"end_ms", end},
                     {"ms", end - start_ms},
                     {"status", ok ? "ok" : "failed"},
                     {"error", error}};
}

Status Recovery::CheckStop() const {
  if (stop_ != nullptr && stop_->load()) {
    return UnavailableError("controller stopping; failover " + row_.failover_id + " resumes at " +
                            row_.phase);
  }
  return OkStatus();
}

Result<FailoverEvent> Recovery::Run(const std::atomic<bool>* stop) {
  stop_ = stop;
  Notify();  // the start (or, resumed, where it stands)
  while (true) {
    RETURN_IF_ERROR(CheckStop());
    auto phase = ParseFailoverPhase(row_.phase);
    if (!phase)
      return CorruptionError("failover " + row_.failover_id + " has unknown phase " + row_.phase);
    switch (*phase) {
      case FailoverPhase::kDetected:
        RETURN_IF_ERROR(Persist(row_.planned && !row_.original_ssh_host.empty()
                                    ? FailoverPhase::kFinalSnapshot
                                    : FailoverPhase::kReplacing));
        break;
      case FailoverPhase::kFinalSnapshot:
        RETURN_IF_ERROR(FinalSnapshot());
        break;
      case FailoverPhase::kReplacing:
        RETURN_IF_ERROR(Replace());
        break;
      case FailoverPhase::kRestoring:
        RETURN_IF_ERROR(Restore());
        break;
      case FailoverPhase::kValidating:
        RETURN_IF_ERROR(Validate());
        break;
      case FailoverPhase::kStarting:
        RETURN_IF_ERROR(Start());
        break;
      case FailoverPhase::kChecking:
        RETURN_IF_ERROR(Check());
        break;
      case FailoverPhase::kDone:
      case FailoverPhase::kFailed:
        return row_;
    }
  }
}

Status Recovery::FinalSnapshot() {
  const int64_t start = NowMillis(ctx_->clock);
  auto transport = JobTransport(OriginalHostOf(row_, spec_.ssh_user));
  // Bounded: a watchdog cancels the job at final_snapshot_timeout, and the transport's job
  // deadline holds the bound where no watchdog thread runs (the simulation).
  transport->SetTimeouts(std::chrono::seconds(30), spec_.policy.final_snapshot_timeout,
                         std::chrono::seconds(30));
  std::atomic<bool> cancel{false};
  transport->SetCancelFlag(&cancel);
  StopSignal finished;
  std::thread watchdog;
  if (ctx_->parallel) {
    watchdog = std::thread([&] {
      if (ctx_->clock->WaitUnless(spec_.policy.final_snapshot_timeout, finished)) cancel = true;
    });
  }
  const StoreAccess& store = HostStore();
  HostAgent agent(transport.get(), &store);
  auto snap = agent.Snapshot(spec_.name, spec_.workspace, false, ctx_->snapshot_job);
  finished.Set();
  if (watchdog.joinable()) watchdog.join();
  row_.snapshot_ms = NowMillis(ctx_->clock) - start;
  if (snap) {
    row_.snapshot_id = snap->snapshot_id;
    row_.snapshot_type = snap->snapshot_type;
    row_.base_snapshot_id = snap->base_snapshot_id;
    row_.files_changed = snap->files_changed;
    Timing("final_snapshot", start, true);
    const SnapshotRow taken = SnapshotRowOf(*snap, spec_.name, NowMillis(ctx_->clock));
    ctx_->state->RecordSnapshot(taken).IgnoreError();
    ctx_->Notify([&](ControllerObserver& o) { o.SnapshotFinished(spec_.name, &taken, 0, ""); });
  } else {
    const bool timed_out =
        cancel || (snap.error().code == ErrorCode::kDeadlineExceeded &&
                   row_.snapshot_ms >= spec_.policy.final_snapshot_timeout.count() * 1000);
    std::string why = timed_out
                          ? "timed out after " +
                                std::to_string(spec_.policy.final_snapshot_timeout.count()) + " s"
                          : snap.error().message;
    row_.note += (row_.note.empty() ? "" : "; ") + std::string("final snapshot failed (") + why +
                 "); failing over from the latest stored snapshot";
    Timing("final_snapshot", start, false, why);
    // Not a periodic snapshot's failure: no run of failures is counted.
    ctx_->Notify([&](ControllerObserver& o) { o.SnapshotFinished(spec_.name, nullptr, 0, why); });
    ctx_->Log(spec_.name + ": failover " + row_.failover_id + ": final snapshot failed (" + why +
              "); using the latest stored snapshot");
  }
  return Persist(FailoverPhase::kReplacing);
}

Status Recovery::Replace() {
  if (row_.attempts >= spec_.policy.max_attempts) {
    return Fail("replacing", "no replacement after " + std::to_string(row_.attempts) +
                                 " machines: " + row_.note);
  }
  ctx_->Log(spec_.name + ": failover " + row_.failover_id + ": replacing (attempt " +
            std::to_string(row_.attempts + 1) + " of " + std::to_string(spec_.policy.max_attempts) +
            ")");
  const bool fence = row_.fence.empty() && !row_.original_ssh_host.empty();
  const bool locate = row_.snapshot_id.empty() && !no_snapshot_;
  Status provisioned = OkStatus();
  Fenced fenced;
  Located located;
  if (ctx_->parallel) {
    std::thread fencing, locating;
    if (fence) fencing = std::thread([&] { fenced = Fence(); });
    if (locate) locating = std::thread([&] { located = Locate(); });
    provisioned = Provision();
    if (fencing.joinable()) fencing.join();
    if (locating.joinable()) locating.join();
  } else {
    if (fence) fenced = Fence();
    if (locate) located = Locate();
    provisioned = Provision();
  }
  if (fence) row_.fence = fenced.fence;
  if (locate && located.error.empty()) {
    if (located.header) {
      const SnapshotHeader& h = *located.header;
      row_.snapshot_id = h.snapshot_id;
      row_.snapshot_type = h.snapshot_type;
      row_.base_snapshot_id = h.base_snapshot_id.value_or("");
      row_.files_changed = static_cast<int64_t>(h.files_changed);
    } else {
      no_snapshot_ = true;
      row_.note += (row_.note.empty() ? "" : "; ") + std::string("no snapshot of ") + spec_.name +
                   " existed: the new host starts with an empty workspace";
    }
  }
  RETURN_IF_ERROR(CheckStop());
  if (!provisioned) {
    row_.note += (row_.note.empty() ? "" : "; ") + provisioned.error().message;
    return Save();  // still replacing: the next pass races again or gives up
  }
  if (locate && !located.error.empty()) {
    // Without the snapshot there is nothing to restore: give the machine back and fail; the
    // controller tries the whole failover again after its backoff.
    DestroyAndConfirm(ctx_->fleet->provider(), ctx_->state, row_.new_instance_id, ctx_->clock);
    return Fail("replacing", "cannot read the latest snapshot: " + located.error);
  }
  return Persist(FailoverPhase::kRestoring);
}

Recovery::Fenced Recovery::Fence() {
  const int64_t start = NowMillis(ctx_->clock);
#ifdef STANDBY_PLANTED_BUG_SKIP_FENCING
  // The deterministic simulation's planted bug (tests/sim, a test build only): fencing
  // reports success without touching the old host. The simulation must catch it.
  Timing("fencing", start, true);
  return {"confirmed"};
#endif
  Provider* provider = ctx_->fleet->provider();
  bool confirmed = false;
  std::string how;
  if (!row_.original_instance_id.empty() && provider->Name() == row_.provider) {
    confirmed = DestroyAndConfirm(provider, ctx_->state, row_.original_instance_id, ctx_->clock);
    how = "destroyed instance " + row_.original_instance_id;
    if (confirmed) {  // a later host at its address is a new host, not a changed key
      ctx_->fleet->ForgetPins(
          row_.original_instance_id,
          {{row_.original_ssh_host, static_cast<uint16_t>(row_.original_ssh_port), "direct", ""}});
    }
  } else {
    // A host no provider rents is never destroyed: its workload is stopped instead.
    const HostAddress old = OriginalHostOf(row_, spec_.ssh_user);
    auto transport = JobTransport(old);
    const StoreAccess& store = HostStore();
    confirmed =
        HostAgent(transport.get(), &store).StopWorkload(spec_.name, spec_.workload).has_value();
    how = "stopped the workload on " + old.Describe();
  }
  Timing("fencing", start, confirmed, confirmed ? "" : how + " could not be confirmed");
  ctx_->Log(spec_.name + ": failover " + row_.failover_id + ": fencing " +
            (confirmed ? "confirmed: " : "unconfirmed: ") + how);
  return {confirmed ? "confirmed" : "unconfirmed"};
}

Recovery::Located Recovery::Locate() {
  const int64_t start = NowMillis(ctx_->clock);
  Located out;
  auto store = ctx_->open_store(spec_.repo);
  Result<Manifest> manifest = store ? LoadSnapshot(store->get(), std::nullopt, spec_.name)
                                    : Result<Manifest>(store.error());
  if (!manifest && manifest.error().code == ErrorCode::kNotFound) {
    Timing("locating", start, true, "no snapshot");
    return out;
  }
  if (!manifest) {
    out.error = manifest.error().message;
    Timing("locating", start, false, out.error);
    return out;
  }
  out.header = manifest->header;
  Timing("locating", start, true);
  return out;
}

void Recovery::DestroyLeftovers() {
  DestroyRaceLeftovers(ctx_, row_.failover_id, [&](const Instance& i) {
    ctx_->Log(spec_.name + ": failover " + row_.failover_id + ": destroying " + i.id +
              ", left by an interrupted race");
  });
  // Machines rented on suspicion by a controller that was killed before it could hand them
  // over or give them back (this failover's own head start excepted).
  auto rented = ctx_->fleet->provider()->List(SpeculativeLabelPrefix(ctx_, spec_.name));
  if (!rented) return;  // the reaper's, then
  for (const Instance& i : *rented) {
    const bool ours =
        std::any_of(head_start_.begin(), head_start_.end(),
                    [&](const HeadStartCandidate& h) { return h.instance.id == i.id; });
    if (ours) continue;
    ctx_->Log(spec_.name + ": failover " + row_.failover_id + ": destroying " + i.id +
              ", rented on suspicion by a controller that stopped");
    DestroyAndConfirm(ctx_->fleet->provider(), ctx_->state, i.id, ctx_->clock);
  }
}

Status Recovery::Provision() {
  const int64_t start = NowMillis(ctx_->clock);
  DestroyLeftovers();
  ++row_.attempts;
  RETURN_IF_ERROR(Save());
  ProvisionRequest request;
  request.filter = spec_.filter;
  request.launch.image = spec_.image;
  request.launch.disk_gb = spec_.disk_gb;
  request.purpose = "failover";
  request.tag = row_.failover_id + "-" + std::to_string(row_.attempts);
  request.failover_id = row_.failover_id;
  request.instance_id = spec_.name;
  request.role = "primary";
  if (!row_.original_machine_id.empty()) {
    // Never back onto the machine being replaced; one that died is kept out of every race.
    request.avoid_machines = {row_.original_machine_id};
    if (row_.trigger == TriggerName(Trigger::kHostDead)) {
      ctx_->fleet->Blacklist(row_.original_machine_id, "died serving " + spec_.name);
    }
  }
  request.ssh_user = spec_.ssh_user;
  request.head_start = std::move(head_start_);
  head_start_.clear();
  auto outcome = ctx_->fleet->Provision(request);
  row_.gpu_provisioning_time_ms += NowMillis(ctx_->clock) - start;
  if (!outcome) {
    Timing("provisioning", start, false, outcome.error().message);
    return outcome.error();
  }
  const RaceResult& race = outcome->race;
  for (const CandidateOutcome& c : race.candidates) {
    row_.candidates_launched += !c.instance_id.empty() && c.outcome != RaceOutcome::kOrphanReaped;
  }
  row_.rounds += race.rounds;
  row_.rate_limit_hits += static_cast<int>(race.rate_limit_hits);
  if (!race.winner || race.winner->ssh.empty()) {
    std::string why = race.candidates.empty()
                          ? "no offer matches the instance's filter"
                          : "no machine became ready in " + std::to_string(race.rounds) + " rounds";
    Timing("provisioning", start, false, why);
    return UnavailableError(why);
  }
  const Instance& w = *race.winner;
  row_.new_instance_id = w.id;
  row_.new_machine_id = w.machine_id;
  row_.new_ssh_host = w.ssh.front().host;
  row_.new_ssh_port = w.ssh.front().port;
  row_.new_ssh_user = outcome->ssh_user;
  row_.gpu_name = w.gpu_name;
  Timing("provisioning", start, true);
  ctx_->Log(spec_.name + ": failover " + row_.failover_id + ": race won by " + w.id + " (" +
            w.gpu_name + ", $" + std::to_string(w.price_per_hour).substr(0, 5) + "/h) after " +
            HumanSeconds(race.elapsed_s) + ", " + std::to_string(race.candidates.size()) +
            " candidates");
  return OkStatus();
}

}  // namespace standby
