#include "failover/recovery.h"

#include <algorithm>
#include <mutex>

#include "base/json_fields.h"
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

OldHost Recovery::Old() const {
  OldHost old{spec_.name, row_.provider,   row_.original_instance_id,
              {},         spec_.workspace, spec_.workload};
  if (!row_.original_ssh_host.empty()) old.ssh = OriginalHostOf(row_, spec_.ssh_user);
  return old;
}

bool Recovery::PreCopy() const { return row_.planned && !row_.original_ssh_host.empty(); }

Recovery::~Recovery() {
  for (const HeadStartCandidate& c : head_start_) {
    ctx_->Log(spec_.name + ": failover " + row_.failover_id + ": destroying " + c.instance.id +
              ", rented on suspicion and not raced");
    DestroyOrPending(ctx_, c.instance.id, spec_.name);
  }
}

std::unique_ptr<AgentTransport> Recovery::JobTransport(const HostAddress& host) {
  auto transport = LongJobTransport(ctx_, host);
  transport->SetCancelFlag(&halt_);
  return transport;
}

void Recovery::AddNote(const std::string& note) {
  if (row_.note.find(note) != std::string::npos) return;
  row_.note += (row_.note.empty() ? "" : "; ") + note;
}

Status Recovery::Save() {
  if (row_.fence == "pending") {
    // The cleanup task (or an operator) may have fenced the old host meanwhile.
    auto stored = ctx_->state->ListFailoverEvents({.failover_id = row_.failover_id});
    if (stored && !stored->empty() && stored->front().fence == "confirmed") {
      row_.fence = "confirmed";
      row_.fenced_at = stored->front().fenced_at;
      row_.fence_detail = stored->front().fence_detail;
    }
  }
  {
    std::lock_guard<std::mutex> lock(timings_mu_);
    row_.phase_timings_json = DumpJson(timings_);
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

bool Recovery::Halted() const { return halt_.load() || (stop_ != nullptr && stop_->load()); }

Status Recovery::CheckStop() const {
  if (Halted()) {
    return UnavailableError("failover " + row_.failover_id + " stopped here; it resumes at " +
                            row_.phase);
  }
  return OkStatus();
}

void Recovery::ReleaseClaimIfStopped() {
  // Stopped at a safe point (SIGTERM): nothing of this process acts on it any more, so its
  // claim ends now rather than at its expiry — a next `serve` resumes it at once, and an
  // `unprotect` gives it up (destroying its replacement) instead of leaving it to a live
  // claim that nobody renews.
  if (stop_ == nullptr || !stop_->load() || row_.completed_at > 0) return;
  const int64_t now = NowMillis(ctx_->clock);
  ctx_->state->ClaimFailover(row_.failover_id, ctx_->ProcessId(), now, now - 1)
      .IgnoreError();  // the database away: the claim expires on its own
}

void Recovery::KeepClaim() {
  int64_t renewed_ns = ctx_->clock->MonotonicNanos();
  const int64_t ttl_ns = std::chrono::nanoseconds(ctx_->claim_ttl).count();
  const int64_t renew_ns = std::chrono::nanoseconds(ctx_->claim_renew).count();
  auto halt = [&](const std::string& why) {
    ctx_->Log(spec_.name + ": failover " + row_.failover_id + ": " + why);
    halt_ = true;
    cancel_.Set();
  };
  // Renewed until the run returns: stopping (a race giving its machines back) is still
  // acting, and no other process may take over before it is over.
  while (ctx_->clock->WaitUnless(ctx_->claim_renew, done_)) {
    if (stop_ != nullptr && stop_->load() && !halt_) halt("stopping at a safe point");
    const int64_t now = NowMillis(ctx_->clock);
    auto claimed = ctx_->state->ClaimFailover(row_.failover_id, ctx_->ProcessId(), now,
                                              now + ctx_->claim_ttl.count());
    if (claimed && *claimed) {
      renewed_ns = ctx_->clock->MonotonicNanos();
    } else if (claimed) {
      return halt("another process holds its claim now: this one acts no more");
    } else if (ctx_->clock->MonotonicNanos() - renewed_ns >= ttl_ns - renew_ns) {
      // Another process may adopt it once the claim expires: stop before that can happen.
      return halt("cannot renew its claim (" + claimed.error().message +
                  "); stopping before the claim expires, to resume once it can be claimed");
    }
  }
}

Result<FailoverEvent> Recovery::Run(const std::atomic<bool>* stop) {
  stop_ = stop;
  Notify();  // the start (or, resumed, where it stands)
  auto keeper = ctx_->executor->Spawn(spec_.name + "/claim", [this] { KeepClaim(); });
  struct EndKeeper {
    Recovery* r;
    Executor::Task* task;
    ~EndKeeper() {
      r->done_.Set();
      task->Join();
      r->ReleaseClaimIfStopped();
    }
  } end_keeper{this, keeper.get()};
  while (true) {
    RETURN_IF_ERROR(CheckStop());
    auto phase = ParseFailoverPhase(row_.phase);
    if (!phase)
      return CorruptionError("failover " + row_.failover_id + " has unknown phase " + row_.phase);
    switch (*phase) {
      case FailoverPhase::kDetected:
        RETURN_IF_ERROR(Persist(FailoverPhase::kReplacing));
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
      case FailoverPhase::kFinalSnapshot:
        RETURN_IF_ERROR(FinalSnapshot());
        break;
      case FailoverPhase::kFencing:
        RETURN_IF_ERROR(FenceGate());
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

Status Recovery::Replace() {
  if (row_.attempts >= spec_.policy.max_attempts) {
    return Fail("replacing", "no replacement after " + std::to_string(row_.attempts) +
                                 " machines: " + row_.note);
  }
  ctx_->Log(spec_.name + ": failover " + row_.failover_id + ": replacing (attempt " +
            std::to_string(row_.attempts + 1) + " of " + std::to_string(spec_.policy.max_attempts) +
            ")");
  // A planned move leaves the old host serving until its final snapshot; anything else
  // fences it beside the race, retrying until the race ends (fencing gates the start).
  const bool fence = !PreCopy() && row_.fence != "confirmed" &&
                     (!row_.original_ssh_host.empty() || !row_.original_instance_id.empty());
  const bool locate = row_.snapshot_id.empty() && !no_snapshot_;
  std::atomic<bool> raced{false};
  FenceResult fenced;
  Located located;
  std::unique_ptr<Executor::Task> fencing, locating;
  if (fence) {
    fencing = ctx_->executor->Spawn(
        spec_.name + "/fence", [&] { fenced = FenceWithRetries([&] { return !raced.load(); }); });
  }
  if (locate) {
    locating = ctx_->executor->Spawn(spec_.name + "/locate", [&] { located = Locate(); });
  }
  Status provisioned = Provision();
  raced = true;
  if (fencing) fencing->Join();
  if (locating) locating->Join();
  if (fence) RecordFence(fenced);
  if (locate && located.error.empty()) {
    if (located.header) {
      const SnapshotHeader& h = *located.header;
      row_.snapshot_id = h.snapshot_id;
      row_.snapshot_type = h.snapshot_type;
      row_.base_snapshot_id = h.base_snapshot_id.value_or("");
      row_.files_changed = static_cast<int64_t>(h.files_changed);
    } else {
      no_snapshot_ = true;
      AddNote("no snapshot of " + spec_.name +
              " existed: the new host starts with an empty workspace");
    }
  }
  RETURN_IF_ERROR(CheckStop());
  if (!provisioned) {
    AddNote(provisioned.error().message);
    RETURN_IF_ERROR(Save());  // still replacing: the next pass races again or gives up
    if (provider_backoff_.count() > 0) {
      // The provider could not be used at all: no machine was tried, none is counted, and
      // the race waits before it asks again.
      static const std::atomic<bool> kNever{false};
      ctx_->clock->SleepUnless(provider_backoff_, stop_ ? *stop_ : kNever);
    }
    return OkStatus();
  }
  if (locate && !located.error.empty()) {
    // Without the snapshot there is nothing to restore: give the machine back and fail; the
    // controller tries the whole failover again after its backoff.
    DiscardReplacement("replacing", UnavailableError(located.error));
    return Fail("replacing", "cannot read the latest snapshot: " + located.error);
  }
  return Persist(FailoverPhase::kRestoring);
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
  // This failover's own head start (rented on suspicion, about to race) is kept.
  std::set<std::string> keep;
  for (const HeadStartCandidate& h : head_start_) keep.insert(h.instance.id);
  Status swept = DestroyRaceLeftovers(ctx_, row_, keep, [&](const Instance& i) {
    ctx_->Log(spec_.name + ": failover " + row_.failover_id + ": destroying " + i.id +
              (i.label.find(":speculative:") != std::string::npos
                   ? ", rented on suspicion by a controller that stopped"
                   : ", left by an interrupted race"));
  });
  // A failed listing is swept again until it works (PendingCleanups).
  row_.leftovers_pending = !swept.has_value();
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
  // Unique per race, not only per attempt: a process that lost the claim may still be giving
  // back its own race's machines (found by its tag) while the new owner races.
  request.tag =
      row_.failover_id + "-" + std::to_string(row_.attempts) + "x" + ctx_->random->HexId(4);
  request.failover_id = row_.failover_id;
  request.instance_id = spec_.name;
  request.role = "primary";
  request.cancel = &cancel_;
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
    // The provider could not be used (an outage, a 429 storm): no machine was tried.
    --row_.attempts;
    provider_backoff_ = std::clamp(provider_backoff_ * 2, std::chrono::milliseconds(5000),
                                   std::chrono::milliseconds(60000));
    Timing("provisioning", start, false, outcome.error().message);
    return outcome.error().WithContext("the provider could not be used; racing again in " +
                                       std::to_string(provider_backoff_.count() / 1000) + " s");
  }
  provider_backoff_ = std::chrono::milliseconds(0);
  const RaceResult& race = outcome->race;
  for (const CandidateOutcome& c : race.candidates) {
    row_.candidates_launched += !c.instance_id.empty() && c.outcome != RaceOutcome::kOrphanReaped;
  }
  row_.rounds += race.rounds;
  row_.rate_limit_hits += static_cast<int>(race.rate_limit_hits);
  if (!race.winner || race.winner->ssh.empty()) {
    std::string why = race.cancelled ? "the race was cancelled"
                      : race.candidates.empty()
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
