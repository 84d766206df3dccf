// What happens in a seed (sim_seed.h): each instance's main failure, noise around it, lies of
// the provider, database outages, operators' requests and changes, and a `protect
// --provision` run while the controller serves.
#include "failover/protected_rows.h"
#include "tests/sim/sim_seed.h"

namespace standby::sim {

ProtectionSpec SeedRun::Spec(const std::string& name) {
  ProtectionSpec s;
  s.name = name;
  s.repo = "/repo";
  s.workload.command = "python3 serve.py";
  s.workload.health_url = "http://127.0.0.1:8000/health";
  s.snapshot_every = std::chrono::seconds(300);
  s.keep_last = 3;
  s.policy.probe_interval = kRound;
  s.policy.probe_timeout = std::chrono::seconds(3);
  s.policy.dead_after = 3;
  s.policy.health_timeout = std::chrono::seconds(60);
  s.policy.final_snapshot_timeout = std::chrono::seconds(60);
  s.policy.max_attempts = 3;
  s.policy.retry_backoff = std::chrono::seconds(60);
  s.policy.direct_probe = false;  // the simulated hosts have no port to reach
  s.policy.speculative_race = options_.speculative_race;
  s.policy.fence_unconfirmed =
      proceed_[name] ? FenceUnconfirmed::kProceed : FenceUnconfirmed::kWait;
  return s;
}

SimHost* SeedRun::Primary(const std::string& name) {
  auto row = w_.db()->GetProtectedInstance(name);
  if (!row || !*row) return nullptr;
  if (!(*row)->provider_instance_id.empty()) return w_.Host((*row)->provider_instance_id);
  for (auto& [id, h] : w_.hosts()) {
    if (h.adopted && h.port == (*row)->ssh_port) return &h;
  }
  return nullptr;
}

void SeedRun::Fault(const std::string& name, double seconds, int kind) {
  SimHost* h = Primary(name);
  if (h == nullptr) return;
  const int64_t until = w_.Now() + static_cast<int64_t>(seconds * kSecond);
  (kind == 0 ? h->hang_until_ns : kind == 1 ? h->drop_until_ns : h->partition_until_ns) = until;
  judge_.silences[h->id].push_back({w_.Now(), until});
}

void SeedRun::KillPrimary(const std::string& name) {
  if (SimHost* h = Primary(name)) w_.KillHost(h->id);
}

void SeedRun::Request(const std::string& name, bool planned, bool no_stop, int count) {
  const bool running = judge_.FailoverRunning(name);
  int made = 0;
  for (int i = 0; i < count; ++i) {
    auto r = SubmitRequest(&cli_->ctx, name, "failover",
                           planned ? Trigger::kPlanned : Trigger::kManual, planned, no_stop);
    if (r) {
      ++made;
      requests_.push_back(r->request_id);
      if (no_stop) {
        no_stop_requests_[r->request_id] = name;
        judge_.instances[name].two_may_serve_until_ns = INT64_MAX;
      }
    } else if (r.error().message.starts_with(kAlreadyFailingOver)) {
      result_.coverage.hits["request during a failover"] = 1;
    }
  }
  if (made >= 2) result_.coverage.hits["two requests in one interval"] = 1;
  if (running && made > 0) result_.coverage.hits["request during a failover"] = 1;
}

void SeedRun::WatchMakeBeforeBreak() {
  for (auto it = no_stop_requests_.begin(); it != no_stop_requests_.end();) {
    auto r = w_.db()->GetRequest(it->first);
    bool over = r && *r && !(*r)->result.empty() && (*r)->failover_id.empty();  // refused
    if (r && *r && !(*r)->failover_id.empty()) {
      auto e = w_.db()->ListFailoverEvents({.failover_id = (*r)->failover_id});
      over = e && !e->empty() && e->front().completed_at > 0;
    }
    if (!over) {
      ++it;
      continue;
    }
    // The old host is fenced right after the new one passes; it may serve until then.
    judge_.instances[it->second].two_may_serve_until_ns = w_.Now() + 20 * kSecond;
    it = no_stop_requests_.erase(it);
  }
}

void SeedRun::Resume(const std::string& name) {
  if (ResumeProtection(&cli_->ctx, name)) {
    to_resume_.erase(name);
  } else {
    to_resume_.insert(name);
  }
}

void SeedRun::ConfirmDeadFences() {
  auto open = w_.db()->ListFailoverEvents({.cleanup_pending_only = true});
  if (!open) return;
  for (const FailoverEvent& e : *open) {
    if (e.fence != "pending" && e.fence != "waiting") continue;
    SimHost* old = w_.OldHostOf(e);
    if (old == nullptr || !old->killed) continue;  // it may answer again: the controller's
    if (ConfirmFence(&cli_->ctx, e.failover_id, "the machine died for good")) {
      result_.coverage.hits["an operator confirmed the fence of a dead host"] = 1;
    }
  }
}

void SeedRun::LatePlacement() {
  // `protect --provision` in a process of its own while `serve` runs; it may be interrupted
  // (Ctrl-C: it gives back what it rented) or killed (serve adopts its placement).
  auto cli = w_.NewProcess("protect");
  Process* p = cli.get();
  auto stop = std::make_shared<std::atomic<bool>>(false);
  const double fate = w_.Uniform();
  const std::string name = late_;
  auto task = w_.sched().SpawnInGroup(
      "protect " + name,
      [this, p, stop, name] {
        auto placed = Protect(&p->ctx, Spec(name), {"", std::nullopt, true}, stop.get());
        w_.Trace("world: protect --provision " + name +
                 " ended: " + (placed ? placed->status : placed.error().message));
        judge_.killed_at[p->id] = w_.Now();  // it exited: it acts no more
      },
      &p->group);
  if (fate < 0.25) {
    events_.push_back({Elapsed() + w_.Between(2, 40), "Ctrl-C on protect --provision " + name,
                       [stop] { *stop = true; }});
  } else if (fate < 0.5) {
    events_.push_back(
        {Elapsed() + w_.Between(2, 40), "protect --provision " + name + " is killed", [this, p] {
           judge_.killed_at[p->id] = w_.Now();
           judge_.any_kill = true;
           late_killed_ = true;
           w_.sched().Abandon(p->group);
         }});
  }
  late_process_ = std::move(cli);
  late_task_ = std::move(task);
}

void SeedRun::DrawMainFailure(const std::string& name, double t0) {
  auto at = [&](double t, std::string what, std::function<void()> f) {
    events_.push_back({t, name + ": " + std::move(what), std::move(f)});
  };
  if (options_.cold_only) {
    at(t0, "the primary's machine dies", [this, name] { KillPrimary(name); });
    return;
  }
  auto outage = [&](double from, double length) {
    at(from, "provider API outage for " + std::to_string(int(length)) + " s", [] {});
    w_.outages.push_back({NsAt(from), NsAt(from + length)});
  };
  switch (w_.rng()() % 11) {
    case 0:
      at(t0, "the primary's machine dies", [this, name] { KillPrimary(name); });
      break;
    case 1: {
      const double length = w_.Between(40, 240);
      at(t0, "the primary stalls (alive, serving) for " + std::to_string(int(length)) + " s",
         [this, name, length] { Fault(name, length, 0); });
      break;
    }
    case 2:
      for (int i = 0; i < 3; ++i) {
        const double length = w_.Between(0.5, 3.5);
        at(t0 + 30 * i, "a short SSH stall", [this, name, length] { Fault(name, length, 0); });
      }
      break;
    case 3:
      outage(t0, w_.Between(30, 180));
      break;
    case 4:
      at(t0, "429 storm", [] {});
      w_.storms.push_back({NsAt(t0), NsAt(t0 + w_.Between(20, 60))});
      at(t0 + 1, "the primary's machine dies", [this, name] { KillPrimary(name); });
      break;
    case 5:
      outage(t0, w_.Between(10, 60));
      at(t0 + 1, "the primary's machine dies", [this, name] { KillPrimary(name); });
      break;
    case 6: {
      const bool hang = w_.Uniform() < 0.3;
      const bool no_stop = !hang && w_.Uniform() < 0.3;
      at(t0,
         std::string("a planned move") + (hang ? "; its final snapshot hangs" : "") +
             (no_stop ? " (--no-stop)" : ""),
         [this, name, hang, no_stop] {
           if (SimHost* h = Primary(name); h != nullptr) h->snapshot_hangs = hang;
           Request(name, true, no_stop, 1);
         });
      break;
    }
    case 7: {
      const bool loop = w_.Uniform() < 0.5;
      at(t0, loop ? "the workload crash-loops" : "the workload crashes once", [this, name, loop] {
        SimHost* h = Primary(name);
        if (h == nullptr) return;
        h->workload_running = false;
        h->workload_broken = loop;
      });
      break;
    }
    case 8: {
      const double length = w_.Between(30, 200);
      at(t0, "the primary resets every connection for " + std::to_string(int(length)) + " s",
         [this, name, length] { Fault(name, length, 1); });
      break;
    }
    case 9: {
      const double length = w_.Between(10, 200);
      at(t0,
         "the controller is cut off from the primary (which serves on) for " +
             std::to_string(int(length)) + " s",
         [this, name, length] { Fault(name, length, 2); });
      break;
    }
    default:
      break;  // nothing happens to it
  }
}

void SeedRun::DrawNoise() {
  w_.fail_restore_share = 0.15 * w_.Uniform();
  w_.die_restore_share = 0.15 * w_.Uniform();
  w_.broken_workload_share = 0.05 * w_.Uniform();
  w_.corrupt_restore_share = w_.Uniform() < 0.3 ? 0.15 : 0.0;
  w_.timeout_share = w_.Uniform() < 0.3 ? 0.02 : 0.0;
  if (w_.Uniform() < 0.3) w_.offline_lie_share = 0.05 * w_.Uniform();
  if (w_.Uniform() < 0.2) w_.list_error_share = 0.05 * w_.Uniform();
  if (w_.Uniform() < 0.25) w_.stubborn_share = 0.3;
  if (w_.Uniform() < 0.2) w_.ghost_share = 0.3;
  const std::string& name = names_[w_.rng()() % names_.size()];
  if (w_.Uniform() < 0.3) {
    const double length = w_.Between(0.5, 3.5);
    events_.push_back({w_.Between(10, kActiveS - 10), name + ": a short SSH stall",
                       [this, name, length] { Fault(name, length, 0); }});
  }
  if (w_.Uniform() < 0.2) {
    const double from = w_.Between(10, kActiveS - 60), length = w_.Between(5, 40);
    events_.push_back(
        {from, "provider API outage for " + std::to_string(int(length)) + " s", [] {}});
    w_.outages.push_back({NsAt(from), NsAt(from + length)});
  }
  if (w_.Uniform() < 0.2) {
    const double from = w_.Between(10, kActiveS - 60), length = w_.Between(5, 30);
    events_.push_back({from, "429 storm for " + std::to_string(int(length)) + " s", [] {}});
    w_.storms.push_back({NsAt(from), NsAt(from + length)});
  }
  if (w_.Uniform() < 0.3) {
    const double from = w_.Between(5, kActiveS - 60), length = w_.Between(5, 60);
    events_.push_back(
        {from, "the database is down for " + std::to_string(int(length)) + " s", [] {}});
    w_.db_outages.push_back({NsAt(from), NsAt(from + length)});
  }
  if (w_.Uniform() < 0.15) {
    const double from = w_.Between(10, kActiveS - 60), length = w_.Between(5, 50);
    events_.push_back({from,
                       "the object store is unreachable for " + std::to_string(int(length)) + " s",
                       [this] { w_.BreakStore(); }});
    events_.push_back(
        {from + length, "the object store answers again", [this] { w_.RestoreStore(); }});
  }
}

void SeedRun::DrawOperators() {
  const std::string& name = names_[w_.rng()() % names_.size()];
  const double t = w_.Between(20, kActiveS - 30);
  const double pick = w_.Uniform();
  if (pick < 0.25) {
    const int count = w_.Uniform() < 0.5 ? 2 : 1;
    events_.push_back(
        {t, name + ": an operator asks for " + std::to_string(count) + " failover(s) at once",
         [this, name, count] { Request(name, false, false, count); }});
  } else if (pick < 0.35) {
    events_.push_back({t, name + ": paused for maintenance", [this, name] {
                         PauseProtection(&cli_->ctx, name).IgnoreError();  // busy: refused
                       }});
    events_.push_back({t + w_.Between(5, 60), name + ": resumed", [this, name] { Resume(name); }});
  } else if (pick < 0.45) {
    events_.push_back({t, name + ": its spec changes (probe timeout 4 s)", [this, name] {
                         ProtectionSpec s = Spec(name);
                         s.policy.probe_timeout = std::chrono::seconds(4);
                         Protect(&cli_->ctx, s, {}, nullptr).IgnoreError();
                       }});
  }
}

void SeedRun::DrawScenario() {
  for (const std::string& name : names_) {
    if (name != late_) DrawMainFailure(name, w_.Between(10, 80));
  }
  if (!options_.cold_only) {
    DrawNoise();
    DrawOperators();
    if (w_.Uniform() < 0.3) DrawOperators();
  }
  if (!late_.empty()) {
    events_.push_back({w_.Between(0, 30), late_ + ": protect --provision while serve runs",
                       [this] { LatePlacement(); }});
  }
  std::stable_sort(events_.begin(), events_.end(),
                   [](const Event& a, const Event& b) { return a.at_s < b.at_s; });
}

}  // namespace standby::sim
