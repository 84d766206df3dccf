#include "failover/controller.h"

#include <unistd.h>

#include "base/log.h"
#include "env/host_info.h"

namespace standby {

void ControllerContext::Log(const std::string& line) const {
  if (log) {
    log(line);
  } else {
    spdlog::info("{}", line);
  }
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
      snapshots_(static_cast<size_t>(std::max(1, ctx->max_concurrent_snapshots)), ctx->parallel) {}

Controller::~Controller() {
  for (auto& [name, w] : watched_) {
    w.stop->store(true);
    if (w.thread.joinable()) w.thread.join();
  }
}

Status Controller::Start() {
  started_at_ms_ = NowMillis(ctx_->clock);
  next_reap_ns_ = ctx_->clock->MonotonicNanos();
  ASSIGN_OR_RETURN(auto events, ctx_->state->ListFailoverEvents({.unfinished_only = true}));
  for (FailoverEvent& e : events) {
    auto phase = ParseFailoverPhase(e.phase);
    if (!phase || Finished(*phase)) continue;
    // Only this controller's own: several controllers on one database need the lease of
    // the coming multi-controller work before they may take over each other's failovers.
    if (!e.controller.empty() && e.controller != ctx_->controller) continue;
    auto instance = ctx_->state->GetProtectedInstance(e.instance_id);
    if (instance && !*instance) {
      AbandonFailover(ctx_, e, e.instance_id + " is no longer protected");
      continue;
    }
    resumable_[e.instance_id] = e;
  }
  Heartbeat();
  ctx_->Log("controller " + ctx_->controller + " started on " + ctx_->state->Describe() + " (" +
            ctx_->fleet->provider()->Name() + " provider); " + std::to_string(resumable_.size()) +
            " failover(s) to resume");
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

void Controller::StartThread(Watched& w, const std::atomic<bool>& global_stop) {
  InstanceSupervisor* supervisor = w.supervisor.get();
  std::atomic<bool>* mine = w.stop.get();
  w.thread = std::thread([this, supervisor, mine, &global_stop] {
    while (!mine->load() && !global_stop.load()) {
      const int64_t round = ctx_->clock->MonotonicNanos();
      supervisor->Tick(*Listing(), *mine);
      // Probes start every interval, whatever the last one cost (up to its timeout).
      auto spent = std::chrono::nanoseconds(ctx_->clock->MonotonicNanos() - round);
      auto interval = std::chrono::nanoseconds(supervisor->probe_interval());
      if (spent < interval) ctx_->clock->SleepUnless(interval - spent, *mine);
    }
  });
}

void Controller::SyncInstances(bool threads, const std::atomic<bool>& stop) {
  auto listed = ctx_->state->ListProtectedInstances();
  if (!listed) {
    ctx_->Log("cannot list protected instances (the state store is away?): " +
              listed.error().message);
    return;
  }
  std::map<std::string, ProtectedInstance> current;
  for (ProtectedInstance& p : *listed) current[p.instance_id] = std::move(p);
  // Removed (unprotected): stop watching.
  for (auto it = watched_.begin(); it != watched_.end();) {
    if (current.contains(it->first)) {
      ++it;
      continue;
    }
    it->second.stop->store(true);
    if (it->second.thread.joinable()) it->second.thread.join();
    ctx_->Log(it->first + ": no longer protected; stopped watching it");
    // A failover it left unfinished must not leave its replacement rented.
    if (auto events =
            ctx_->state->ListFailoverEvents({.instance_id = it->first, .unfinished_only = true})) {
      for (const FailoverEvent& e : *events) {
        AbandonFailover(ctx_, e, it->first + " was unprotected during the failover");
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
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
      ctx_->Log(name + ": cannot read its spec: " + spec.error().message);
      continue;
    }
    Watched w;
    w.supervisor = std::make_unique<InstanceSupervisor>(ctx_, row, *spec, &snapshots_);
    w.stop = std::make_unique<std::atomic<bool>>(false);
    if (auto resume = resumable_.find(name); resume != resumable_.end()) {
      ctx_->Log(name + ": resuming failover " + resume->second.failover_id + " from " +
                resume->second.phase);
      w.supervisor->Resume(resume->second);
      resumable_.erase(resume);
    } else if (first_sync_ && row.status == ProtectionStateName(ProtectionState::kFailingOver)) {
      // Claimed for a failover whose row was never written: a controller died in between.
      ctx_->Log(name + ": was marked failing over by a failover that never started; watching it");
      ProtectedInstance fixed = row;
      fixed.status = std::string(ProtectionStateName(ProtectionState::kSuspect));
      if (auto version = ctx_->state->UpdateProtectedInstance(fixed)) {
        fixed.version = *version;
        w.supervisor->Update(fixed);
      }
    }
    ctx_->Log(name + ": watching " +
              (row.ssh_host.empty() ? std::string("(no host yet)")
                                    : row.ssh_host + ":" + std::to_string(row.ssh_port)));
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, inserted] = watched_.emplace(name, std::move(w));
    if (threads) StartThread(it->second, stop);
  }
  first_sync_ = false;
}

void Controller::HandleRequests() {
  auto pending = ctx_->state->ListPendingRequests();
  if (!pending) return;
  for (const RequestRow& r : *pending) {
    auto taken = ctx_->state->TakeRequest(r.request_id, ctx_->controller, NowMillis(ctx_->clock));
    if (!taken || !*taken) continue;  // another controller took it
    auto w = watched_.find(r.instance_id);
    if (w == watched_.end()) {
      ctx_->state->FinishRequest(r.request_id, "", "no protected instance named " + r.instance_id)
          .IgnoreError();
      continue;
    }
    if (r.kind == "snapshot") {
      ctx_->Log(r.instance_id + ": snapshot requested (" + r.request_id + ")");
      w->second.supervisor->RequestSnapshot(r.request_id);
    } else if (r.kind == "drill" && !r.planned) {
      ctx_->Log(r.instance_id + ": kill drill requested (" + r.request_id + ")");
      w->second.supervisor->RequestDrill(r.request_id);
    } else {
      Trigger trigger =
          ParseTrigger(r.trigger).value_or(r.planned ? Trigger::kPlanned : Trigger::kManual);
      ctx_->Log(r.instance_id + ": failover requested (" + r.request_id + ", " +
                std::string(TriggerName(trigger)) + ")");
      w->second.supervisor->RequestFailover(trigger, r.planned, r.request_id);
    }
  }
}

void Controller::Heartbeat() {
  ControllerRow row;
  row.controller = ctx_->controller;
  row.pid = ::getpid();
  row.hostname = LocalHostname();
  row.started_at = started_at_ms_;
  row.heartbeat_at = NowMillis(ctx_->clock);
  row.probe_interval_ms = options_.interval.count();
  row.api_url = options_.api_url;
  ctx_->state->RecordControllerHeartbeat(row).IgnoreError();
}

void Controller::MaybeReap() {
  const int64_t now = ctx_->clock->MonotonicNanos();
  if (now < next_reap_ns_) return;
  next_reap_ns_ = now + std::chrono::nanoseconds(options_.reap_every).count();
  auto reaped = ctx_->fleet->Reap(options_.reap_grace);
  if (!reaped) {
    ctx_->Log("reaper: " + reaped.error().message);
    return;
  }
  for (const std::string& id : reaped->destroyed) {
    ctx_->Log("reaper: destroyed orphan instance " + id);
  }
}

void Controller::RunOnce(const std::atomic<bool>& stop) {
  RefreshListing();
  SyncInstances(false, stop);
  HandleRequests();
  Heartbeat();
  auto listing = Listing();
  for (auto& [name, w] : watched_) {
    if (stop.load()) break;
    w.supervisor->Tick(*listing, stop);
  }
  MaybeReap();
}

Status Controller::Run(const std::atomic<bool>& stop) {
  // The provider is listed on its own thread: a listing that hangs on retries must not hold
  // up requests, heartbeats or the instance set.
  RefreshListing();
  std::thread lister([&] {
    while (ctx_->clock->SleepUnless(options_.interval, stop)) RefreshListing();
  });
  while (!stop.load()) {
    SyncInstances(true, stop);
    HandleRequests();
    Heartbeat();
    MaybeReap();
    ctx_->clock->SleepUnless(options_.interval, stop);
  }
  lister.join();
  ctx_->Log("stopping: letting every instance reach a safe point");
  for (auto& [name, w] : watched_) w.stop->store(true);
  for (auto& [name, w] : watched_) {
    if (w.thread.joinable()) w.thread.join();
  }
  ctx_->Log("stopped");
  return OkStatus();
}

}  // namespace standby
