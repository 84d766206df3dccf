#include "failover/controller.h"

#include <unistd.h>

#include "base/log.h"
#include "base/strings.h"
#include "env/host_info.h"
#include "failover/pending_cleanups.h"
#include "failover/protected_rows.h"

namespace standby {

void ControllerContext::Log(const std::string& line) const {
  if (log) {
    log(line);
  } else {
    spdlog::info("{}", line);
  }
}

bool ControllerContext::Guarded(const std::string& what, const std::function<void()>& pass) const {
  std::string failure;
  try {
    pass();
    return true;
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "an exception that is not a std::exception";
  }
  Log(what + " failed unexpectedly (" + EscapeControl(failure) + "); it goes on at its next pass");
  return false;
}

bool ControllerContext::StoreReachable(const std::string& repo) const {
  auto store = open_probe_store ? open_probe_store(repo) : open_store(repo);
  if (!store) return false;
  auto head = (*store)->Head("config");
  return head.has_value() || head.error().code == ErrorCode::kNotFound;
}

Controller::Controller(ControllerContext* ctx, ControllerOptions options)
    : ctx_(ctx),
      options_(std::move(options)),
      listing_(std::make_shared<ProviderListing>()),
      snapshots_(static_cast<size_t>(std::max(1, ctx->max_concurrent_snapshots)), ctx->executor) {}

Controller::~Controller() {
  for (auto& [name, w] : watched_) w.stop->store(true);
  for (auto& [name, w] : watched_) {
    if (w.task) w.task->Join();
  }
  ReapStopped(true);
}

Status Controller::Start() {
  started_at_ms_ = NowMillis(ctx_->clock);
  next_reap_ns_ = ctx_->clock->MonotonicNanos();
  Heartbeat();
  // Failovers whose instance is gone or never pointed at them, and whose claim expired.
  AbandonOrphanFailovers(ctx_);
  ctx_->Log("controller " + ctx_->ProcessId() + " started on " + ctx_->state->Describe() + " (" +
            ctx_->fleet->provider()->Name() + " provider)");
  return OkStatus();
}

std::shared_ptr<const ProviderListing> Controller::Listing() const {
  std::lock_guard<std::mutex> lock(mu_);
  return listing_;
}

void Controller::RefreshListing() {
  auto listing = std::make_shared<ProviderListing>();
  listing->taken_ns = ctx_->clock->MonotonicNanos();
  // Every instance of the account, whoever rented it: an adopted instance, or one rented by
  // another controller, missing from a filtered listing would look gone.
  auto listed = ctx_->fleet->provider()->List("");
  if (listed) {
    listing->answered = true;
    for (Instance& i : *listed) listing->by_id[i.id] = std::move(i);
  } else {
    listing->error = listed.error().message;
  }
  std::lock_guard<std::mutex> lock(mu_);
  listing_ = std::move(listing);
}

void Controller::StartTask(const std::string& name, Watched& w,
                           const std::atomic<bool>& global_stop) {
  InstanceSupervisor* supervisor = w.supervisor.get();
  std::atomic<bool>* mine = w.stop.get();
  w.task = ctx_->executor->Spawn(name, [this, supervisor, mine, &global_stop] {
    const std::string what = supervisor->name() + ": its supervisor";
    while (!mine->load() && !global_stop.load()) {
      const int64_t round = ctx_->clock->MonotonicNanos();
      if (!ctx_->Guarded(what, [&] { supervisor->Tick(*Listing(), *mine); })) {
        supervisor->MarkFault();
      }
      // Probes start every interval, whatever the last one cost (up to its timeout).
      auto spent = std::chrono::nanoseconds(ctx_->clock->MonotonicNanos() - round);
      auto interval = std::chrono::nanoseconds(supervisor->probe_interval());
      ctx_->clock->SleepUnless(std::max(interval - spent, std::chrono::nanoseconds(0)), *mine);
    }
  });
}

void Controller::SyncInstances(const std::atomic<bool>& stop) {
  auto listed = ctx_->state->ListProtectedInstances();
  if (!listed) {
    // Said once: supervisors go on from what they hold until the database answers.
    if (last_sync_error_.empty()) {
      last_sync_error_ = listed.error().message;
      ctx_->Log("cannot list protected instances (the state store is away?): " + last_sync_error_ +
                "; watching what is known");
    }
    return;
  }
  if (!last_sync_error_.empty()) ctx_->Log("the state store answers again");
  last_sync_error_.clear();
  std::map<std::string, ProtectedInstance> current;
  for (ProtectedInstance& p : *listed) current[p.instance_id] = std::move(p);
  // Removed (unprotected): stop watching. The supervisor winds down off this loop (a race
  // it runs is cancelled); ReapStopped settles what it leaves.
  for (auto it = watched_.begin(); it != watched_.end();) {
    if (current.contains(it->first)) {
      ++it;
      continue;
    }
    it->second.stop->store(true);
    ctx_->Log(it->first + ": no longer protected; stopped watching it");
    std::lock_guard<std::mutex> lock(mu_);
    stopping_.emplace_back(it->first, std::move(it->second));
    it = watched_.erase(it);
  }
  for (auto& [name, row] : current) {
    auto found = watched_.find(name);
    if (found != watched_.end()) {
      if (row.version > found->second.supervisor->version()) {
        found->second.supervisor->Update(row);
      }
      continue;
    }
    auto spec = SpecFromJson(row.spec_json);
    if (!spec) {
      // Never silent: logged and shown on the instance, once per version of its row.
      auto reported = unreadable_specs_.find(name);
      if (reported == unreadable_specs_.end() || reported->second != row.version) {
        ctx_->Log(name + ": NOT WATCHED: cannot read its spec: " + spec.error().message +
                  "; fix it with `standby protect " + name + " ...`");
        auto marked = UpdateProtectedRow(ctx_, name, [&](ProtectedInstance& p) {
          p.health_detail = "not watched: cannot read its spec: " + spec.error().message;
          return true;
        });
        unreadable_specs_[name] = marked && *marked ? (*marked)->version : row.version;
      }
      continue;
    }
    unreadable_specs_.erase(name);
    Watched w;
    w.supervisor = std::make_unique<InstanceSupervisor>(ctx_, row, *spec, &snapshots_);
    w.stop = std::make_unique<std::atomic<bool>>(false);
    ctx_->Log(name + ": watching " +
              (row.ssh_host.empty() ? std::string("(no host yet)")
                                    : row.ssh_host + ":" + std::to_string(row.ssh_port)));
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, inserted] = watched_.emplace(name, std::move(w));
    StartTask(name, it->second, stop);
  }
}

void Controller::ReapStopped(bool wait) {
  std::vector<std::pair<std::string, Watched>> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = stopping_.begin(); it != stopping_.end();) {
      if (wait || !it->second.task || it->second.task->Done()) {
        done.push_back(std::move(*it));
        it = stopping_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& [name, w] : done) {
    if (w.task) w.task->Join();
    w.supervisor.reset();
    // A failover it left unfinished must not leave its replacement rented.
    auto events = ctx_->state->ListFailoverEvents({.instance_id = name, .unfinished_only = true});
    if (!events) continue;  // AbandonOrphanFailovers settles it later
    for (const FailoverEvent& e : *events) {
      if (e.claimed_by != ctx_->ProcessId() && e.claim_expires_at >= NowMillis(ctx_->clock)) {
        continue;  // another process runs it
      }
      AbandonFailover(ctx_, e, name + " was unprotected during the failover");
    }
  }
}

void Controller::HandleRequests() {
  auto pending = ctx_->state->ListPendingRequests();
  if (!pending) return;  // read again next interval
  for (const RequestRow& r : *pending) {
    auto taken = ctx_->state->TakeRequest(r.request_id, ctx_->ProcessId(), NowMillis(ctx_->clock));
    if (!taken || !*taken) continue;  // another controller took it, or read again next time
    auto w = watched_.find(r.instance_id);
    if (w == watched_.end()) {
      Status answered = ctx_->state->FinishRequest(r.request_id, "",
                                                   "no protected instance named " + r.instance_id);
      if (!answered)
        ctx_->Log("cannot answer request " + r.request_id + ": " + answered.error().message);
      continue;
    }
    ctx_->Log(r.instance_id + ": " + r.kind + " request " + r.request_id + " taken");
    w->second.supervisor->Request(r);
  }
}

void Controller::Heartbeat() {
  ControllerRow row;
  row.controller = ctx_->ProcessId();
  row.pid = ::getpid();
  row.hostname = LocalHostname();
  row.started_at = started_at_ms_;
  row.heartbeat_at = NowMillis(ctx_->clock);
  row.probe_interval_ms = options_.interval.count();
  row.api_url = options_.api_url;
  // A missed heartbeat only makes `failover` and `status` think no controller runs until the
  // next one lands.
  ctx_->state->RecordControllerHeartbeat(row).IgnoreError();
}

void Controller::MaybeReap() {
  const int64_t now = ctx_->clock->MonotonicNanos();
  if (now < next_reap_ns_) return;
  next_reap_ns_ = now + std::chrono::nanoseconds(options_.reap_every).count();
  auto reaped = ctx_->fleet->Reap(options_.reap_grace, /*retry_pending=*/false);
  if (!reaped) {
    ctx_->Log("reaper: " + reaped.error().message);
    return;
  }
  for (const std::string& id : reaped->destroyed) {
    ctx_->Log("reaper: destroyed orphan instance " + id);
  }
}

Status Controller::Run(const std::atomic<bool>& stop) {
  // The provider is listed on a task of its own: a listing that hangs on retries must not
  // hold up requests, heartbeats or the instance set.
  RefreshListing();
  auto lister = ctx_->executor->Spawn("lister", [&] {
    while (ctx_->clock->SleepUnless(options_.interval, stop)) {
      ctx_->Guarded("the provider listing", [&] { RefreshListing(); });
    }
  });
  PendingCleanups cleanup(ctx_, started_at_ms_);
  auto fences = ctx_->executor->Spawn("fences", [&] {
    while (ctx_->clock->SleepUnless(options_.interval, stop)) {
      ctx_->Guarded("retrying pending fences", [&] { cleanup.RetryFences(); });
    }
  });
  auto cleanups = ctx_->executor->Spawn("cleanups", [&] {
    while (ctx_->clock->SleepUnless(options_.cleanup_every, stop)) {
      ctx_->Guarded("the cleanups", [&] { cleanup.RetryTheRest(); });
    }
  });
  while (!stop.load()) {
    // What was spooled while the database was away reaches it as soon as it answers, not
    // at the next write of the same kind (which may be an hour away).
    ctx_->Guarded("the controller's main loop", [&] {
      ctx_->state->FlushPending().IgnoreError();  // still away: the next interval
      SyncInstances(stop);
      HandleRequests();
      Heartbeat();
      MaybeReap();
      ReapStopped(false);
    });
    ctx_->clock->SleepUnless(options_.interval, stop);
  }
  lister->Join();
  fences->Join();
  cleanups->Join();
  ctx_->Log("stopping: letting every instance reach a safe point");
  for (auto& [name, w] : watched_) w.stop->store(true);
  for (auto& [name, w] : watched_) {
    if (w.task) w.task->Join();
  }
  ReapStopped(true);
  snapshots_.JoinAll();  // a periodic snapshot of a host ends with its job
  ctx_->Log("stopped");
  return OkStatus();
}

}  // namespace standby
