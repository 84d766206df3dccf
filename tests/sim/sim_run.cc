#include "tests/sim/sim_run.h"

#include <algorithm>
#include <mutex>

#include "failover/vocabulary.h"
#include "tests/sim/sim_seed.h"

namespace standby::sim {
namespace {

WorldOptions DrawWorld(uint64_t seed, const SimOptions& options) {
  std::mt19937_64 rng(seed * 7919 + 17);
  WorldOptions w;
  w.pool = !options.cold_only && std::uniform_real_distribution<double>(0, 1)(rng) < 0.15;
  return w;
}

const std::vector<FailoverPhase>& KillPhases() {
  static const std::vector<FailoverPhase> phases = {
      FailoverPhase::kReplacing,     FailoverPhase::kRestoring, FailoverPhase::kValidating,
      FailoverPhase::kFinalSnapshot, FailoverPhase::kFencing,   FailoverPhase::kStarting,
      FailoverPhase::kChecking};
  return phases;
}

std::string KillName(std::string_view phase) { return "kill -9 while " + std::string(phase); }

}  // namespace

const std::vector<std::string>& RequiredCoverage() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (FailoverPhase p : KillPhases()) n.push_back(KillName(FailoverPhaseName(p)));
    n.insert(
        n.end(),
        {"kill -9 between two writes", "a failover claim adopted after its process died",
         "a replacement died mid-restore", "429 during a race", "API outage during detection",
         "database down during a failover", "request during a failover",
         "two requests in one interval", "fence unconfirmed: pending (proceed)",
         "fence unconfirmed: waiting (wait)",
         "a pending fence confirmed once the old host answered", "destroy pending, then confirmed",
         "silent corruption caught by validation", "planned move (pre-copy)",
         "planned move abandoned (its final snapshot failed)", "make before break (--no-stop)",
         "pool instance failed over", "adopted --ssh host failed over",
         "the provider lied (offline, stubborn destroy, ghost)"});
    return n;
  }();
  return names;
}

SeedRun::SeedRun(uint64_t seed, const SimOptions& options)
    : w_(seed, DrawWorld(seed, options)), judge_(&w_), options_(options) {
  result_.seed = seed;
}

SeedResult SeedRun::Run() {
  const int count = options_.cold_only ? 1 : 1 + static_cast<int>(w_.rng()() % 3);
  for (int i = 1; i <= count; ++i) names_.push_back("sim-" + std::to_string(i));
  w_.seeded = SeedRepository(w_.store(), names_);
  for (const auto& [name, id] : w_.seeded) w_.catalog.insert(id);
  w_.sched().SetStepHook([this] { StepHook(); });
  w_.sched().Run([this] { Harness(); });
  w_.sched().SetStepHook(nullptr);
  return Finish();
}

double SeedRun::Elapsed() { return static_cast<double>(w_.Now() - start_ns_) / kSecond; }

bool SeedRun::PlaceInstances() {
  cli_ = w_.NewProcess("cli");
  for (const std::string& name : names_) {
    proceed_[name] = options_.cold_only || w_.Uniform() < 0.7;
    adopted_[name] = !options_.cold_only && w_.Uniform() < 0.12;
    judge_.instances[name].proceed = proceed_[name];
  }
  if (!options_.cold_only && names_.size() > 1 && w_.Uniform() < 0.3) late_ = names_.back();
  for (const std::string& name : names_) {
    if (name == late_) continue;
    PlacementRequest placement;
    if (adopted_[name]) {
      SimHost& host = w_.AddAdoptedHost(name);
      placement.adopt_ssh = SshTarget{"root", "127.0.0.1", static_cast<uint16_t>(host.port)};
    } else {
      placement.provision = true;
    }
    auto placed = Protect(&cli_->ctx, Spec(name), placement, nullptr);
    if (!placed || placed->status != "healthy") return false;
  }
  return true;
}

void SeedRun::StartController() {
  controller_ = std::make_unique<Running>();
  controller_->process = w_.NewProcess("serve-" + std::to_string(++generation_));
  ControllerOptions options;
  options.interval = 2 * kRound;  // requests, listings, heartbeats (probes every 2 s)
  options.reap_every = std::chrono::seconds(60);
  options.reap_grace = std::chrono::seconds(180);
  options.cleanup_every = std::chrono::seconds(20);
  controller_->controller = std::make_unique<Controller>(&controller_->process->ctx, options);
  Running* r = controller_.get();
  r->task = w_.sched().SpawnInGroup(
      r->process->id,
      [r] {
        if (r->controller->Start()) r->controller->Run(r->stop).IgnoreError();
      },
      &r->process->group);
  // After a kill, the dead process's failovers wait for their claims to expire.
  judge_.controller_able_since_ns = w_.Now() + (judge_.any_kill ? 25 * kSecond + 2 * kSecond : 0);
}

void SeedRun::Kill() {
  Running* r = controller_.get();
  const std::string& id = r->process->id;
  kill_at_step_ = 0;
  kill_in_phase_.clear();
  judge_.any_kill = true;
  judge_.killed_at[id] = w_.Now();
  if (auto running = w_.db()->ListFailoverEvents({.unfinished_only = true})) {
    for (const FailoverEvent& e : *running) result_.coverage.hits[KillName(e.phase)] = 1;
  }
  if (w_.parked_in_write[id] > 0) result_.coverage.hits["kill -9 between two writes"] = 1;
  w_.sched().Abandon(r->process->group);
  judge_.controller_able_since_ns = -1;
  w_.Trace("world: the controller process " + id + " is killed (kill -9)");
  killed_.push_back(std::move(controller_));
  restart_at_ns_ = w_.Now() + static_cast<int64_t>(w_.Between(1, 10) * kSecond);
}

void SeedRun::StepHook() {
  if (!violation_.empty()) return;
  violation_ = judge_.EveryStep();
  if (!violation_.empty()) return;
  if (!controller_) return;
  const bool at_step = kill_at_step_ > 0 && w_.sched().steps() >= kill_at_step_;
  const bool in_phase =
      !kill_in_phase_.empty() && w_.phase_written[controller_->process->id] == kill_in_phase_;
  if (at_step || in_phase) Kill();
}

void SeedRun::Heal() {
  healed_ = true;
  w_.outages.clear();
  w_.storms.clear();
  w_.db_outages.clear();
  w_.timeout_share = w_.offline_lie_share = w_.list_error_share = 0;
  w_.RestoreStore();
  for (auto& [id, h] : w_.hosts()) {
    h.hang_until_ns = std::min(h.hang_until_ns, w_.Now());
    h.drop_until_ns = std::min(h.drop_until_ns, w_.Now());
    h.partition_until_ns = std::min(h.partition_until_ns, w_.Now());
  }
  w_.Trace("world: every fault heals");
}

void SeedRun::Round() {
  const int64_t now = w_.Now();
  while (next_event_ < events_.size() && events_[next_event_].at_s <= Elapsed()) {
    Event e = events_[next_event_++];  // applying it may add events
    w_.Trace("world: " + e.what);
    e.apply();
    std::stable_sort(events_.begin() + static_cast<std::ptrdiff_t>(next_event_), events_.end(),
                     [](const Event& a, const Event& b) { return a.at_s < b.at_s; });
  }
  if (Elapsed() >= kActiveS && !healed_) Heal();
  if (!controller_ && restart_at_ns_ >= 0 && now >= restart_at_ns_) {
    restart_at_ns_ = -1;
    StartController();
    w_.Trace("world: a new controller process " + controller_->process->id + " starts");
  }
  WatchMakeBeforeBreak();
  // A kill -9 lands while a failover runs, at a step drawn ahead (any step: mid-race,
  // between two writes, mid-restore).
  bool running = false;
  for (const std::string& name : names_) running |= judge_.FailoverRunning(name);
  if (kills_left_ > 0 && kill_at_step_ == 0 && kill_in_phase_.empty() && controller_ && running &&
      !healed_ && w_.Uniform() < 0.35) {
    --kills_left_;
    // At any step soon, or at the next write of a phase (so every phase sees kills).
    if (w_.Uniform() < 0.4) {
      kill_at_step_ = w_.sched().steps() + 1 + w_.rng()() % 60;
    } else {
      kill_in_phase_ = FailoverPhaseName(KillPhases()[w_.rng()() % KillPhases().size()]);
    }
  }
  if (healed_ && static_cast<int64_t>(Elapsed()) % 6 < 2) ConfirmDeadFences();
  for (const std::string& name : std::set<std::string>(to_resume_)) Resume(name);
  for (const ProtectedInstance& row : judge_.rows()) {
    if (row.status == "suspect" && w_.ProviderDown(now)) {
      result_.coverage.hits["API outage during detection"] = 1;
    }
  }
  if (running && w_.DatabaseDown(now)) result_.coverage.hits["database down during a failover"] = 1;
}

void SeedRun::Harness() {
  if (!PlaceInstances()) {
    result_.placed = false;
    return;
  }
  StartController();
  start_ns_ = w_.Now();
  kills_left_ = options_.cold_only ? 0 : static_cast<int>(w_.rng()() % 3);
  DrawScenario();
  std::string why;
  for (int round = 0; violation_.empty(); ++round) {
    Round();
    if (!violation_.empty()) break;
    // The database's view is judged every third round (6 s), as is quiet: the
    // world's is judged at every step.
    if (round % 3 == 0) violation_ = judge_.EveryRound(&result_.coverage, &result_.mttr_ms);
    if (!violation_.empty()) break;
    if (healed_ && controller_ && round % 3 == 0 && judge_.Quiet(&why)) break;
    if (Elapsed() > kActiveS + kQuietBoundS) {
      violation_ =
          "not quiet " + std::to_string(kQuietBoundS) + " s after every fault healed: " + why;
      break;
    }
    w_.sched().SleepFor(kRound);
  }
  // Every request a live process took is answered.
  for (const std::string& id : requests_) {
    auto r = w_.db()->GetRequest(id);
    if (!violation_.empty() || !r || !*r) break;
    const bool taker_killed = judge_.killed_at.contains((*r)->taken_by);
    if ((*r)->taken_at > 0 && (*r)->result.empty() && !taker_killed) {
      violation_ = "request " + id + " was taken by " + (*r)->taken_by + " and never answered";
    }
  }
  if (controller_) {
    controller_->stop = true;
    controller_->task->Join();
  }
}

void SeedRun::Account() {
  for (const std::string& line : w_.trace()) {
    if (auto at = line.find("renting on suspicion, "); at != std::string::npos) {
      result_.speculative_rentals += std::atoi(line.c_str() + at + 22);
    }
    if (line.find("the host answered again: destroyed the machine(s) rented on suspicion") !=
        std::string::npos) {
      ++result_.false_suspicions;
      // "... (id, id, each confirmed gone)": one comma per machine.
      const size_t open = line.find(" ("), close = line.find(')', open);
      if (open != std::string::npos && close != std::string::npos && close > open) {
        result_.false_suspicion_rentals +=
            static_cast<int>(std::count(line.begin() + static_cast<std::ptrdiff_t>(open),
                                        line.begin() + static_cast<std::ptrdiff_t>(close), ','));
      }
    }
    if (line.find("old host of failover ") != std::string::npos &&
        line.find(" fenced: ") != std::string::npos) {
      result_.coverage.hits["a pending fence confirmed once the old host answered"] = 1;
    }
    if (line.find("(its process ") != std::string::npos &&
        line.find("stopped)") != std::string::npos) {
      result_.coverage.hits["a failover claim adopted after its process died"] = 1;
    }
  }
  for (const auto& [id, seconds] : w_.market()->BilledSeconds()) {
    auto rows = w_.db()->ListProtectedInstances();
    bool primary = false;
    if (rows) {
      for (const ProtectedInstance& p : *rows) primary |= p.provider_instance_id == id;
    }
    if (!primary) result_.loser_instance_s += seconds;
  }
  if (auto owned = w_.db()->ListProviderInstances()) {
    for (const ProviderInstanceRow& r : *owned) {
      if (r.destroy_pending_at > 0 && r.destroyed_at > 0) {
        result_.coverage.hits["destroy pending, then confirmed"] = 1;
      }
    }
  }
}

SeedResult SeedRun::Finish() {
  Account();
  const Sightings& s = w_.seen;
  if (s.rate_limited_in_race) result_.coverage.hits["429 during a race"] = 1;
  if (s.replacement_died_mid_restore) result_.coverage.hits["a replacement died mid-restore"] = 1;
  if (s.offline_lie || s.stubborn_destroy || s.ghost_listing) {
    result_.coverage.hits["the provider lied (offline, stubborn destroy, ghost)"] = 1;
  }
  result_.violation = violation_;
  w_.Trace("world: " + std::to_string(w_.sched().steps()) + " scheduling steps");
  result_.trace = w_.trace();
  // A killed process's objects are never destroyed (kill -9): they stay as they were.
  for (auto& r : killed_) {
    r->controller.release();
    r->process.release();
    r.release();
  }
  if (late_task_ != nullptr && !late_killed_ && late_task_->Done()) {
    late_task_.reset();  // it exited: gone as a process's memory goes
    late_process_.reset();
  } else if (late_task_ != nullptr) {
    // Killed, or stopped mid-placement by the end of the seed: never destroyed (its tasks
    // may still point into it), and kept reachable for the leak checker.
    static std::mutex kept_mu;
    static auto* kept = new std::vector<std::shared_ptr<void>>;
    std::lock_guard<std::mutex> lock(kept_mu);
    kept->push_back(std::shared_ptr<void>(std::move(late_task_)));
    kept->push_back(std::shared_ptr<void>(std::move(late_process_)));
  }
  return std::move(result_);
}

SeedResult RunSeed(uint64_t seed, const SimOptions& options) {
  return SeedRun(seed, options).Run();
}

}  // namespace standby::sim
