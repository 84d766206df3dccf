#include "failover/instance_supervisor.h"

#include <thread>

#include "base/strings.h"
#include "failover/protected_rows.h"
#include "snapshot/pruner.h"

namespace standby {
namespace {

constexpr int64_t kNsPerMs = 1'000'000;

int64_t Nanos(std::chrono::nanoseconds d) { return d.count(); }

HealthPolicy PolicyFor(const ProtectionSpec& spec) {
  return HealthPolicy(spec.policy, !spec.workload.command.empty(), spec.workload.HasCheck());
}

}  // namespace

InstanceSupervisor::InstanceSupervisor(ControllerContext* ctx, ProtectedInstance row,
                                       ProtectionSpec spec, WorkPool* snapshots)
    : ctx_(ctx),
      snapshots_(snapshots),
      name_(spec.name),
      version_(row.version),
      interval_ms_(spec.policy.probe_interval.count()),
      row_(std::move(row)),
      spec_(std::move(spec)),
      policy_(PolicyFor(spec_)),
      speculation_(ctx, spec_.name) {
  if (row_.status == ProtectionStateName(ProtectionState::kFailed)) {
    int64_t wait_ms =
        row_.updated_at + spec_.policy.retry_backoff.count() * 1000 - NowMillis(ctx_->clock);
    retry_failover_ns_ = ctx_->clock->MonotonicNanos() + std::max<int64_t>(0, wait_ms) * kNsPerMs;
  }
}

InstanceSupervisor::~InstanceSupervisor() {
  // The task captures this supervisor: it must be over before the supervisor is gone.
  while (snapshot_running_ && snapshot_running_->load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void InstanceSupervisor::WaitForSnapshot(std::chrono::nanoseconds at_most) {
  const int64_t deadline = ctx_->clock->MonotonicNanos() + at_most.count();
  while (snapshot_running_ && snapshot_running_->load() &&
         ctx_->clock->MonotonicNanos() < deadline) {
    ctx_->clock->SleepFor(std::chrono::milliseconds(50));
  }
}

void InstanceSupervisor::SetRow(ProtectedInstance row) {
  const std::string paused(ProtectionStateName(ProtectionState::kPaused));
  const bool resumed = row_.status == paused && row.status != paused;
  const bool spec_changed = row.spec_json != row_.spec_json;
  row_ = std::move(row);
  version_ = row_.version;
  if (spec_changed) {
    next_drill_ns_ = -1;  // a new --drill-every applies from now
    // The spec is the row's: `protect` on an existing name changed it.
    auto spec = SpecFromJson(row_.spec_json);
    if (!spec) {
      ctx_->Log(name_ + ": cannot read its new spec; keeping the old one: " + spec.error().message);
    } else {
      spec_ = std::move(*spec);
      interval_ms_ = spec_.policy.probe_interval.count();
      policy_ = PolicyFor(spec_);  // a new check or policy starts from fresh probes
    }
  }
  if (resumed) {
    policy_.Reset();  // what happened while paused is no evidence
    if (row_.status == ProtectionStateName(ProtectionState::kFailed)) {
      retry_failover_ns_ = ctx_->clock->MonotonicNanos();
    }
  }
}

void InstanceSupervisor::Resume(FailoverEvent row) {
  std::lock_guard<std::mutex> lock(mu_);
  resume_ = std::move(row);
}

void InstanceSupervisor::Update(ProtectedInstance row) {
  std::lock_guard<std::mutex> lock(mu_);
  if (update_ && update_->version > row.version) return;
  update_ = std::move(row);
}

void InstanceSupervisor::ApplyUpdate() {
  std::optional<ProtectedInstance> update;
  {
    std::lock_guard<std::mutex> lock(mu_);
    update.swap(update_);
  }
  if (update && update->version > row_.version) SetRow(std::move(*update));
}

void InstanceSupervisor::RequestFailover(Trigger trigger, bool planned,
                                         const std::string& request_id) {
  std::lock_guard<std::mutex> lock(mu_);
  failover_request_ = FailoverRequest{trigger, planned, request_id};
}

void InstanceSupervisor::RequestSnapshot(const std::string& request_id) {
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_request_ = request_id;
}

void InstanceSupervisor::RequestDrill(const std::string& request_id) {
  std::optional<std::string> superseded;
  {
    std::lock_guard<std::mutex> lock(mu_);
    superseded.swap(drill_request_);
    drill_request_ = request_id;
  }
  if (superseded) {
    ctx_->state->FinishRequest(*superseded, "", "superseded by drill request " + request_id)
        .IgnoreError();
  }
}

void InstanceSupervisor::Reload() {
  auto fresh = ctx_->state->GetProtectedInstance(spec_.name);
  if (!fresh || !*fresh) return;
  SetRow(**fresh);
}

void InstanceSupervisor::Tick(const ProviderListing& listing, const std::atomic<bool>& stop) {
  ApplyUpdate();
  std::optional<FailoverEvent> resume;
  {
    std::lock_guard<std::mutex> lock(mu_);
    resume.swap(resume_);
  }
  if (resume) return RunFailover(std::move(*resume), stop);  // requests wait for the next Tick
  std::optional<FailoverRequest> request;
  std::optional<std::string> snapshot_request;
  std::optional<std::string> drill_request;
  {
    std::lock_guard<std::mutex> lock(mu_);
    request.swap(failover_request_);
    snapshot_request.swap(snapshot_request_);
    drill_request.swap(drill_request_);
  }
  // A request this state cannot serve is answered, never dropped.
  auto refuse = [&](const std::string& why) {
    if (request) ctx_->state->FinishRequest(request->request_id, "", why).IgnoreError();
    if (snapshot_request) ctx_->state->FinishRequest(*snapshot_request, "", why).IgnoreError();
    if (drill_request) ctx_->state->FinishRequest(*drill_request, "", why).IgnoreError();
  };
  if (row_.status == ProtectionStateName(ProtectionState::kPaused)) {
    if (speculation_.live()) speculation_.Cancel(spec_.name + " is paused");
    return refuse(spec_.name + " is paused");
  }
  if (row_.status == ProtectionStateName(ProtectionState::kFailingOver) ||
      row_.status == ProtectionStateName(ProtectionState::kPlacing)) {
    // Another process runs it (a `protect --provision` in progress): wait for its end, which
    // the controller's next read of the rows delivers (Update).
    return refuse(
        spec_.name + " is being " +
        (row_.status == ProtectionStateName(ProtectionState::kPlacing) ? "placed" : "failed over") +
        " by another process");
  }
  if (drill_request) {
    const std::string why = request ? "a failover was requested at the same time"
                            : row_.status == ProtectionStateName(ProtectionState::kFailed)
                                ? spec_.name + " has no host: its last failover failed"
                            : !HasHost() ? spec_.name + " has no host"
                            : drill_     ? "a drill of " + spec_.name + " is already under way"
                                         : "";
    if (why.empty()) {
      StartKillDrill(*drill_request);
    } else {
      ctx_->state->FinishRequest(*drill_request, "", why).IgnoreError();
    }
  }
  const int64_t now_ns = ctx_->clock->MonotonicNanos();
  if (request) {
    return StartFailover(request->trigger, request->planned, NowMillis(ctx_->clock),
                         "requested by an operator (" + request->request_id + ")",
                         request->request_id, stop);
  }
  if (row_.status == ProtectionStateName(ProtectionState::kFailed)) {
    if (snapshot_request) refuse(spec_.name + " has no host: its last failover failed");
    if (retry_failover_ns_ >= 0 && now_ns >= retry_failover_ns_) {
      StartFailover(Trigger::kHostDead, false, NowMillis(ctx_->clock),
                    "retrying after failed failover " + row_.last_failover_id, "", stop);
    }
    return;
  }
  if (!HasHost()) {
    if (snapshot_request) refuse(spec_.name + " has no host");
    return;
  }
  Observation o = Probe(listing);
  const std::string_view checked =
      o.agent_ok          ? (o.workload_alive && o.workload_healthy != false ? "ok" : "fail")
      : o.agent_timed_out ? "timeout"
                          : "fail";
  ctx_->Notify([&](ControllerObserver& w) { w.HealthChecked(spec_.name, checked); });
  Decision d = policy_.Decide(o);
  Act(d, o, stop);
  ExpireDrill(d);
  const bool can_snapshot = d.verdict == Verdict::kHealthy || d.verdict == Verdict::kStarting ||
                            d.verdict == Verdict::kSuspect;
  if (!snapshot_request) {
    if (d.verdict == Verdict::kHealthy) {
      MaybeScheduledDrill(stop);
      if (!drill_ && HasHost()) MaybeSnapshot(false);
    }
    return;
  }
  if (!can_snapshot) return refuse(spec_.name + " is not fit for a snapshot: " + d.reason);
  switch (MaybeSnapshot(true)) {
    case SnapshotStart::kStarted:
      ctx_->state->FinishRequest(*snapshot_request, "", "snapshot started").IgnoreError();
      return;
    case SnapshotStart::kAlreadyRunning:
      ctx_->state->FinishRequest(*snapshot_request, "", "a snapshot is already running")
          .IgnoreError();
      return;
    case SnapshotStart::kPoolBusy:
    case SnapshotStart::kNotDue: {
      // max_concurrent_snapshots run for other instances: the request waits for a slot.
      std::lock_guard<std::mutex> lock(mu_);
      if (!snapshot_request_) snapshot_request_ = std::move(snapshot_request);
      return;
    }
  }
}

void InstanceSupervisor::StartFailover(Trigger trigger, bool planned, int64_t first_failure_at_ms,
                                       const std::string& reason, const std::string& request_id,
                                       const std::atomic<bool>& stop) {
  // Never a failover beside a snapshot of this instance: a planned one waits for it (its
  // final snapshot would race it), others find the host gone and the snapshot failing.
  if (planned) WaitForSnapshot(spec_.policy.final_snapshot_timeout);
  Reload();
  auto begun = BeginFailover(ctx_, row_, trigger, planned, first_failure_at_ms, reason);
  if (!begun) {
    ctx_->Log(spec_.name + ": cannot start a failover: " + begun.error().message);
    if (!request_id.empty()) {
      ctx_->state->FinishRequest(request_id, "", begun.error().message).IgnoreError();
    }
    Reload();
    return;
  }
  if (!request_id.empty()) {
    ctx_->state->FinishRequest(request_id, begun->failover_id, "started").IgnoreError();
  }
  RunFailover(std::move(*begun), stop);
}

void InstanceSupervisor::RunFailover(FailoverEvent row, const std::atomic<bool>& stop) {
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
      ctx_->state
          ->FinishRequest(drill_->request_id, "",
                          "superseded by failover " + recovery.row().failover_id)
          .IgnoreError();
    }
    drill_.reset();
  }
  Reload();
  if (!finished) {
    ctx_->Log(spec.name + ": failover " + recovery.row().failover_id + " paused in " +
              recovery.row().phase + ": " + finished.error().message);
    return;
  }
  if (finished->phase == FailoverPhaseName(FailoverPhase::kFailed)) {
    retry_failover_ns_ = ctx_->clock->MonotonicNanos() + Nanos(spec.policy.retry_backoff);
  } else {
    next_snapshot_ns_ = -1;  // recomputed from the restored snapshot's age
  }
  next_drill_ns_ = -1;  // recomputed from the last drill's end
}

void InstanceSupervisor::SetState(ProtectionState state, const std::string& detail) {
  std::string name(ProtectionStateName(state));
  const int64_t now_ns = ctx_->clock->MonotonicNanos();
  if (row_.status == name) {
    // The detail alone (counts, elapsed time) is refreshed at most every 10 s: not a write per
    // probe while a host stays suspect.
    if (row_.health_detail == detail || now_ns - detail_written_ns_ < 10'000'000'000) return;
  }
  auto updated = UpdateProtectedRow(ctx_, spec_.name, [&](ProtectedInstance& p) {
    if (p.status == ProtectionStateName(ProtectionState::kFailingOver) ||
        p.status == ProtectionStateName(ProtectionState::kPaused)) {
      return false;  // the failover or the operator decides
    }
    p.status = name;
    p.health_detail = detail;
    return true;
  });
  if (updated && *updated) {
    const bool changed = row_.status != name;
    SetRow(**updated);
    detail_written_ns_ = now_ns;
    if (changed) {
      ctx_->Notify([&](ControllerObserver& o) { o.HealthChanged(spec_.name, name, detail); });
    }
  }
}

InstanceSupervisor::SnapshotStart InstanceSupervisor::MaybeSnapshot(bool requested) {
  if (spec_.snapshot_every.count() == 0 && !requested) return SnapshotStart::kNotDue;
  if (snapshot_running_ && snapshot_running_->load()) return SnapshotStart::kAlreadyRunning;
  const int64_t now_ns = ctx_->clock->MonotonicNanos();
  const int64_t interval_ns = Nanos(spec_.snapshot_every);
  if (next_snapshot_ns_ < 0) {
    // Up to 10% early, so instances protected together do not snapshot together.
    int64_t jitter = static_cast<int64_t>(ctx_->random->Uniform() * 0.1 * interval_ns);
    int64_t age_ns = row_.last_snapshot_at > 0
                         ? (NowMillis(ctx_->clock) - row_.last_snapshot_at) * kNsPerMs
                         : interval_ns;
    next_snapshot_ns_ = now_ns + std::max<int64_t>(0, interval_ns - jitter - age_ns);
  }
  if (!requested && now_ns < next_snapshot_ns_) return SnapshotStart::kNotDue;
  auto running = std::make_shared<std::atomic<bool>>(true);
  if (!snapshots_->TryRun([this, at_start = row_, spec = spec_, running] {
        TakeSnapshot(at_start, spec);
        *running = false;
      })) {
    return SnapshotStart::kPoolBusy;  // max_concurrent_snapshots already run: next round
  }
  snapshot_running_ = running;
  int64_t jitter = static_cast<int64_t>(ctx_->random->Uniform() * 0.1 * interval_ns);
  next_snapshot_ns_ =
      now_ns + std::max<int64_t>(interval_ns - jitter, Nanos(spec_.policy.probe_interval));
  return SnapshotStart::kStarted;
}

}  // namespace standby
