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

bool Claimed(const ProtectedInstance& row) {
  return row.status == ProtectionStateName(ProtectionState::kFailingOver) ||
         row.status == ProtectionStateName(ProtectionState::kPlacing);
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
  // A controller (re)starting finds a workload that may still be loading: it gets the same
  // start-up grace as one the controller started (a dead one is still handled at once).
  if (!spec_.workload.command.empty()) {
    policy_.WorkloadStarted(ctx_->clock->MonotonicNanos(), /*counts_as_restart=*/false);
  }
  if (Claimed(row_)) running_failover_ = row_.last_failover_id;
}

InstanceSupervisor::~InstanceSupervisor() {
  // The task captures this supervisor: it must be over before the supervisor is gone.
  while (snapshot_running_ && snapshot_running_->load()) {
    ctx_->clock->SleepFor(std::chrono::milliseconds(10));
  }
}

std::string InstanceSupervisor::running_failover() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_failover_;
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
  const std::string failed(ProtectionStateName(ProtectionState::kFailed));
  const bool resumed = row_.status == paused && row.status != paused;
  if (row.status == failed && row_.status != failed && !resumed) {
    // A failover that ended failed wherever it ran (another process, a settled row): the
    // instance is placed again after the backoff.
    int64_t wait_ms =
        row.updated_at + spec_.policy.retry_backoff.count() * 1000 - NowMillis(ctx_->clock);
    retry_failover_ns_ = ctx_->clock->MonotonicNanos() + std::max<int64_t>(0, wait_ms) * 1'000'000;
  }
  const bool spec_changed = row.spec_json != row_.spec_json;
  row_ = std::move(row);
  version_ = row_.version;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_failover_ = Claimed(row_) ? row_.last_failover_id : "";
  }
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

void InstanceSupervisor::Answer(const std::string& request_id, const std::string& failover_id,
                                const std::string& result) {
  Status answered = ctx_->state->FinishRequest(request_id, failover_id, result);
  if (!answered) {
    ctx_->Log(spec_.name + ": cannot answer request " + request_id + " yet (" +
              answered.error().message + "): " + result);
    std::lock_guard<std::mutex> lock(mu_);
    unanswered_.push_back({request_id, failover_id, result});
  }
}

void InstanceSupervisor::Request(const RequestRow& request) {
  std::string running;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running = running_failover_;
    if (running.empty()) {
      requests_.push_back(request);
      return;
    }
  }
  // A failover runs (its Tick is busy with it): answered now, never queued behind it.
  if (request.kind == "failover" || (request.kind == "drill" && request.planned)) {
    Answer(request.request_id, running,
           std::string(kAlreadyFailingOver) + ": failover " + running + " of " + name_ +
               " is running");
  } else {
    Answer(request.request_id, "", name_ + " is failing over (" + running + ")");
  }
}

bool InstanceSupervisor::Reload() {
  auto fresh = ctx_->state->GetProtectedInstance(spec_.name);
  if (!fresh) return false;
  if (*fresh) SetRow(**fresh);
  return true;
}

void InstanceSupervisor::Tick(const ProviderListing& listing, const std::atomic<bool>& stop) {
  ApplyUpdate();
  std::vector<std::array<std::string, 3>> unanswered;
  {
    std::lock_guard<std::mutex> lock(mu_);
    unanswered.swap(unanswered_);
  }
  for (const auto& [id, failover, result] : unanswered) Answer(id, failover, result);
  if (Claimed(row_)) return TickClaimed(stop);
  std::deque<RequestRow> inbox;
  {
    std::lock_guard<std::mutex> lock(mu_);
    inbox.swap(requests_);
  }
  std::vector<RequestRow> failovers, drills, snapshots;
  for (RequestRow& r : inbox) {
    (r.kind == "snapshot"              ? snapshots
     : r.kind == "drill" && !r.planned ? drills
                                       : failovers)
        .push_back(std::move(r));
  }
  auto refuse_all = [&](const std::string& why) {
    for (const auto* list : {&failovers, &drills, &snapshots}) {
      for (const RequestRow& r : *list) Answer(r.request_id, "", why);
    }
  };
  if (row_.status == ProtectionStateName(ProtectionState::kPaused)) {
    if (speculation_.live()) speculation_.Cancel(spec_.name + " is paused");
    return refuse_all(spec_.name + " is paused");
  }
  // The last kill drill asked for wins; every other is answered.
  for (size_t i = 0; i + 1 < drills.size(); ++i) {
    Answer(drills[i].request_id, "", "superseded by drill request " + drills.back().request_id);
  }
  if (!drills.empty()) {
    const std::string& id = drills.back().request_id;
    const std::string why = !failovers.empty() ? "a failover was requested at the same time"
                            : row_.status == ProtectionStateName(ProtectionState::kFailed)
                                ? spec_.name + " has no host: its last failover failed"
                            : !HasHost() ? spec_.name + " has no host"
                            : drill_     ? "a drill of " + spec_.name + " is already under way"
                                         : "";
    if (why.empty()) {
      StartKillDrill(id);
    } else {
      Answer(id, "", why);
    }
  }
  for (size_t i = 1; i < snapshots.size(); ++i) {
    Answer(snapshots[i].request_id, "",
           "merged with snapshot request " + snapshots.front().request_id);
  }
  std::optional<std::string> snapshot_request;
  if (!snapshots.empty()) snapshot_request = snapshots.front().request_id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (snapshot_request_ && !snapshot_request) snapshot_request.swap(snapshot_request_);
  }
  if (!failovers.empty()) {
    if (snapshot_request) Answer(*snapshot_request, "", "a failover was requested meanwhile");
    const RequestRow& first = failovers.front();
    FailoverStart start;
    start.trigger =
        ParseTrigger(first.trigger).value_or(first.planned ? Trigger::kPlanned : Trigger::kManual);
    start.planned = first.planned;
    start.no_stop = first.no_stop;
    start.first_failure_at_ms = NowMillis(ctx_->clock);
    start.reason = "requested by an operator (" + first.request_id + ")";
    std::vector<std::string> ids;
    for (const RequestRow& r : failovers) ids.push_back(r.request_id);
    ctx_->Log(spec_.name + ": failover requested (" + first.request_id + ", " +
              std::string(TriggerName(start.trigger)) + ")");
    if (!StartFailover(start, ids, stop)) {
      // The database is away: the requests wait for the next Tick, in order.
      std::lock_guard<std::mutex> lock(mu_);
      requests_.insert(requests_.begin(), failovers.begin(), failovers.end());
    }
    return;
  }
  const int64_t now_ns = ctx_->clock->MonotonicNanos();
  if (row_.status == ProtectionStateName(ProtectionState::kFailed)) {
    if (snapshot_request) {
      Answer(*snapshot_request, "", spec_.name + " has no host: its last failover failed");
    }
    if (retry_failover_ns_ >= 0 && now_ns >= retry_failover_ns_) {
      // (The database away: the retry is tried again next Tick.)
      StartFailover(RetryOfFailed(), {}, stop).IgnoreError();
    }
    return;
  }
  if (!HasHost()) {
    if (snapshot_request) Answer(*snapshot_request, "", spec_.name + " has no host");
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
  if (!can_snapshot || Claimed(row_)) {
    return Answer(*snapshot_request, "", spec_.name + " is not fit for a snapshot: " + d.reason);
  }
  switch (MaybeSnapshot(true)) {
    case SnapshotStart::kStarted:
      return Answer(*snapshot_request, "", "snapshot started");
    case SnapshotStart::kAlreadyRunning:
      return Answer(*snapshot_request, "", "a snapshot is already running");
    case SnapshotStart::kPoolBusy:
    case SnapshotStart::kNotDue: {
      // max_concurrent_snapshots run for other instances: the request waits for a slot.
      std::lock_guard<std::mutex> lock(mu_);
      if (!snapshot_request_) snapshot_request_ = std::move(snapshot_request);
      return;
    }
  }
}

void InstanceSupervisor::MarkFault() {
  auto updated = UpdateProtectedRow(ctx_, spec_.name, [](ProtectedInstance& p) {
    p.health_detail =
        "the controller failed unexpectedly while watching this instance (its log says how); "
        "it keeps watching";
    return true;
  });
  if (!updated) {
    // The failure itself is logged; the next probe writes the state anyway.
    ctx_->Log(spec_.name + ": cannot record that its supervisor failed (" +
              updated.error().message + ")");
  } else if (*updated) {
    SetRow(**updated);
  }
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
    if (Claimed(p) || p.status == ProtectionStateName(ProtectionState::kPaused)) {
      return false;  // the failover or the operator decides
    }
    p.status = name;
    p.health_detail = detail;
    return true;
  });
  if (!updated) {
    // The state is a view of the probes: the next probe writes it again. Said once.
    if (last_state_error_ != updated.error().message) {
      last_state_error_ = updated.error().message;
      ctx_->Log(spec_.name + ": cannot record its state " + name + " (" + last_state_error_ +
                "); the controller keeps acting on its probes");
    }
    return;
  }
  last_state_error_.clear();
  if (!*updated) {
    Reload();  // a failover, a pause or an unprotect came first (else the next Tick reads it)
    return;
  }
  const bool changed = row_.status != name;
  SetRow(**updated);
  detail_written_ns_ = now_ns;
  if (changed) {
    ctx_->Notify([&](ControllerObserver& o) { o.HealthChanged(spec_.name, name, detail); });
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
