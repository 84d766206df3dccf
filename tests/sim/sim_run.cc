#include "tests/sim/sim_run.h"

#include <functional>
#include <memory>
#include <optional>

#include "failover/controller.h"
#include "failover/operations.h"
#include "tests/sim/sim_world.h"

namespace standby::sim {
namespace {

constexpr char kName[] = "sim-1";
constexpr int64_t kSecond = 1'000'000'000;
constexpr auto kRound = std::chrono::seconds(2);
// Scenario events happen in the first kActiveS seconds; then faults heal and the system must
// become quiet within kQuietBoundS more.
constexpr int64_t kActiveS = 200;
constexpr int64_t kQuietBoundS = 1800;
// No failover may run longer than this (3 machines, each a race, a restore and a check).
constexpr int64_t kFailoverBoundS = 1500;

const std::vector<FailoverPhase>& CrashPhases() {
  static const std::vector<FailoverPhase> phases = {
      FailoverPhase::kDetected,  FailoverPhase::kFinalSnapshot, FailoverPhase::kReplacing,
      FailoverPhase::kRestoring, FailoverPhase::kValidating,    FailoverPhase::kStarting,
      FailoverPhase::kChecking};
  return phases;
}

std::string CrashName(FailoverPhase p) { return "crash in " + std::string(FailoverPhaseName(p)); }

ProtectionSpec Spec(const SimOptions& options) {
  ProtectionSpec s;
  s.name = kName;
  s.repo = "/repo";
  s.workload.command = "python3 serve.py";
  s.workload.health_url = "http://127.0.0.1:8000/health";
  s.snapshot_every = std::chrono::seconds(120);
  s.keep_last = 3;
  s.policy.probe_interval = kRound;
  s.policy.probe_timeout = std::chrono::seconds(3);
  s.policy.dead_after = 3;
  s.policy.health_timeout = std::chrono::seconds(60);
  s.policy.final_snapshot_timeout = std::chrono::seconds(60);
  s.policy.max_attempts = 3;
  s.policy.retry_backoff = std::chrono::seconds(60);
  s.policy.direct_probe = false;  // the simulated hosts have no port to reach
  s.policy.speculative_race = options.speculative_race;
  return s;
}

// A scenario event at a time (seconds after the controller starts).
struct Event {
  double at_s;
  std::string what;
  std::function<void()> apply;
};

class SeedRun {
 public:
  SeedRun(uint64_t seed, const SimOptions& options) : w_(seed), options_(options) {
    result_.seed = seed;
  }

  SeedResult Run() {
    SeedRepository(w_.store(), kName, &w_.seeded_snapshot);
    w_.catalog.insert(w_.seeded_snapshot);
    auto placed = Protect(w_.ctx(), Spec(options_), {"", std::nullopt, true}, nullptr);
    if (!placed || placed->status != "healthy") {
      result_.placed = false;
      return Finish();
    }
    start_ns_ = w_.clock().MonotonicNanos();
    start_ms_ = NowMillis(&w_.clock());
    DrawScenario();
    ControllerOptions options;
    options.interval = kRound;
    options.reap_every = std::chrono::seconds(60);
    options.reap_grace = std::chrono::seconds(120);
    std::optional<FailoverPhase> crash_in;
    if (w_.Uniform() < 0.6 && !options_.cold_only) {
      crash_in = CrashPhases()[w_.rng()() % CrashPhases().size()];
    }
    bool crashed = false;
    w_.ctx()->crash_after_persist = [&](const std::string&, FailoverPhase phase) {
      if (crashed || !crash_in || phase != *crash_in) return false;
      crashed = true;
      restart_ = true;
      result_.coverage.hits[CrashName(phase)] = 1;
      return true;
    };
    auto controller = std::make_unique<Controller>(w_.ctx(), options);
    if (!controller->Start()) return Violation("the controller did not start");
    std::atomic<bool> stop{false};
    size_t next_event = 0;
    while (true) {
      const double t = Elapsed();
      while (next_event < events_.size() && events_[next_event].at_s <= t) {
        w_.Trace("world: " + events_[next_event].what);
        events_[next_event].apply();
        ++next_event;
      }
      if (t >= kActiveS && !healed_) Heal();
      controller->RunOnce(stop);
      // The reaper removes what a crashed controller left; anything else it finds leaked.
      for (size_t i = reaper_lines_; i < w_.trace().size(); ++i) {
        if (!crashed &&
            w_.trace()[i].find("reaper: destroyed orphan instance") != std::string::npos) {
          return Violation("a machine leaked (the reaper found it): " + w_.trace()[i]);
        }
      }
      reaper_lines_ = w_.trace().size();
      if (restart_) {
        w_.Trace("world: the controller is killed and started again");
        controller.reset();
        controller = std::make_unique<Controller>(w_.ctx(), options);
        if (!controller->Start()) return Violation("the restarted controller did not start");
        restart_ = false;
      }
      if (std::string v = CheckInvariants(); !v.empty()) return Violation(v);
      if (healed_ && Quiet()) break;
      if (Elapsed() > kActiveS + kQuietBoundS) {
        return Violation("not quiet " + std::to_string(kQuietBoundS) +
                         " s after every fault healed: " + Unquiet());
      }
      w_.clock().SleepFor(kRound);
    }
    return Finish();
  }

 private:
  double Elapsed() {
    return static_cast<double>(w_.clock().MonotonicNanos() - start_ns_) / kSecond;
  }
  int64_t NsAt(double s) const { return start_ns_ + static_cast<int64_t>(s * kSecond); }
  double Between(double lo, double hi) { return lo + (hi - lo) * w_.Uniform(); }

  std::optional<ProtectedInstance> Row() {
    auto row = w_.state()->GetProtectedInstance(kName);
    return row && *row ? std::optional<ProtectedInstance>(**row) : std::nullopt;
  }
  SimHost* Primary() {
    auto row = Row();
    if (!row) return nullptr;
    auto it = w_.hosts().find(row->provider_instance_id);
    return it == w_.hosts().end() ? nullptr : &it->second;
  }
  // A fault on the current primary for `seconds`: it stalls (hang) or resets connections.
  void Stall(double seconds, bool reset) {
    SimHost* h = Primary();
    if (h == nullptr) return;
    const int64_t now = w_.clock().MonotonicNanos();
    const int64_t until = now + static_cast<int64_t>(seconds * kSecond);
    (reset ? h->drop_until_ns : h->hang_until_ns) = until;
    faults_[h->instance_id].push_back({now, until});
  }
  void KillPrimary() {
    SimHost* h = Primary();
    if (h != nullptr) w_.KillHost(h->instance_id);
  }

  // One main failure per seed, with the faults around it drawn from the seed.
  void DrawScenario() {
    const double t0 = Between(10, 80);
    if (options_.cold_only) {
      events_.push_back({t0, "the primary's machine dies", [this] { KillPrimary(); }});
      return;
    }
    w_.fail_restore_share = 0.15 * w_.Uniform();
    w_.die_restore_share = 0.15 * w_.Uniform();
    w_.broken_workload_share = 0.05 * w_.Uniform();
    w_.timeout_share = w_.Uniform() < 0.3 ? 0.02 : 0.0;
    auto outage = [&](double from, double length) {
      events_.push_back(
          {from, "provider API outage for " + std::to_string(int(length)) + " s", [] {}});
      w_.outages.push_back({NsAt(from), NsAt(from + length)});
    };
    auto storm = [&](double from, double length) {
      events_.push_back({from, "429 storm for " + std::to_string(int(length)) + " s", [] {}});
      w_.storms.push_back({NsAt(from), NsAt(from + length)});
    };
    switch (w_.rng()() % 9) {
      case 0:
        events_.push_back({t0, "the primary's machine dies", [this] { KillPrimary(); }});
        break;
      case 1: {
        const double length = Between(40, 240);
        events_.push_back(
            {t0, "the primary stalls (alive, serving) for " + std::to_string(int(length)) + " s",
             [this, length] { Stall(length, false); }});
        break;
      }
      case 2:
        for (int i = 0; i < 3; ++i) {
          const double length = Between(0.5, 3.5);
          events_.push_back(
              {t0 + 30 * i, "a short SSH stall", [this, length] { Stall(length, false); }});
        }
        break;
      case 3:
        outage(t0, Between(30, 180));
        break;
      case 4:
        storm(t0, Between(20, 60));
        events_.push_back({t0 + 1, "the primary's machine dies", [this] { KillPrimary(); }});
        break;
      case 5:
        outage(t0, Between(10, 60));
        events_.push_back({t0 + 1, "the primary's machine dies", [this] { KillPrimary(); }});
        break;
      case 6: {
        const bool hang = w_.Uniform() < 0.5;
        events_.push_back(
            {t0, hang ? "a planned failover; the final snapshot hangs" : "a planned failover",
             [this, hang] {
               if (SimHost* h = Primary(); h != nullptr) h->snapshot_hangs = hang;
               SubmitRequest(w_.ctx(), kName, "failover", Trigger::kPlanned, true).IgnoreError();
             }});
        break;
      }
      case 7: {
        const bool loop = w_.Uniform() < 0.5;
        events_.push_back(
            {t0, loop ? "the workload crash-loops" : "the workload crashes once", [this, loop] {
               SimHost* h = Primary();
               if (h == nullptr) return;
               h->workload_running = false;
               h->workload_broken = loop;
             }});
        break;
      }
      case 8: {
        const double length = Between(30, 200);
        events_.push_back(
            {t0, "the primary resets every connection for " + std::to_string(int(length)) + " s",
             [this, length] { Stall(length, true); }});
        break;
      }
    }
    // Noise on top: a blip, an API outage or a 429 storm at any time.
    if (w_.Uniform() < 0.3) {
      const double length = Between(0.5, 3.5);
      events_.push_back({Between(10, kActiveS - 10), "a short SSH stall",
                         [this, length] { Stall(length, false); }});
    }
    if (w_.Uniform() < 0.2) outage(Between(10, kActiveS - 60), Between(5, 40));
    if (w_.Uniform() < 0.2) storm(Between(10, kActiveS - 60), Between(5, 30));
    if (w_.Uniform() < 0.15) {
      const double from = Between(10, kActiveS - 60), length = Between(5, 50);
      events_.push_back(
          {from, "the object store is unreachable for " + std::to_string(int(length)) + " s",
           [this] { w_.BreakStore(); }});
      events_.push_back(
          {from + length, "the object store answers again", [this] { w_.RestoreStore(); }});
    }
    std::stable_sort(events_.begin(), events_.end(),
                     [](const Event& a, const Event& b) { return a.at_s < b.at_s; });
  }

  void Heal() {
    healed_ = true;
    w_.outages.clear();
    w_.storms.clear();
    w_.timeout_share = 0;
    w_.RestoreStore();
    w_.Trace("world: every fault heals");
  }

  // Machines that serve the instance's users: alive, booted, running a live workload.
  std::vector<std::string> Serving() {
    std::vector<std::string> out;
    for (auto& [id, h] : w_.hosts()) {
      if (h.dead || !h.workload_running || h.workload_broken) continue;
      auto instance = w_.market()->Get(id);
      if (instance && instance->state == InstanceState::kRunning) out.push_back(id);
    }
    return out;
  }

  int64_t MonoOf(int64_t unix_ms) const { return start_ns_ + (unix_ms - start_ms_) * 1'000'000; }

  // Whether a failover of `e` was warranted by a failure of its original host: the world
  // killed the machine, or it was silent (stalled, resetting) for at least dead_after - 1
  // probe intervals in a window that reaches the detection.
  bool Warranted(const FailoverEvent& e) {
    if (e.trigger != "host_dead") return true;  // requests, and workload crash loops
    auto host = w_.hosts().find(e.original_instance_id);
    if (host == w_.hosts().end() || host->second.killed) return true;
    const int64_t detected_ns = MonoOf(e.detected_at);
    // A failover that failed took the host (a retry replaces a machine already gone).
    if (host->second.destroyed && host->second.destroyed_ns <= detected_ns) return true;
    const int64_t needed = 4 * kSecond;
    for (const Window& f : faults_[e.original_instance_id]) {
      // A probe that began inside the window may end up to a timeout (3 s) after it.
      if (f.from_ns <= detected_ns && detected_ns <= f.to_ns + 3 * kSecond &&
          f.to_ns - f.from_ns >= needed) {
        return true;
      }
    }
    return false;
  }

  std::string CheckInvariants() {
    auto row = Row();
    if (!row) return "the protected instance vanished";
    if (row->version < last_version_) {
      return "the instance's version went back from " + std::to_string(last_version_) + " to " +
             std::to_string(row->version);
    }
    last_version_ = row->version;
    primaries_.insert(row->provider_instance_id);
    // Failover rows change only with the instance's row, while one runs, or when a machine
    // that served is destroyed: read them again only then.
    size_t destroyed = 0;
    for (const std::string& id : primaries_) destroyed += w_.hosts()[id].destroyed;
    if (row->version != events_version_ || running_ || destroyed != destroyed_primaries_) {
      if (std::string v = CheckFailovers(*row); !v.empty()) return v;
      events_version_ = row->version;
      destroyed_primaries_ = destroyed;
    }
    auto serving = Serving();
    if (!running_ && row->status == "healthy" && serving.size() > 1) {
      return "two machines serve " + std::string(kName) +
             " with no failover running: " + serving[0] + " and " + serving[1];
    }
    for (; calls_checked_ < w_.provider_calls_ns.size(); ++calls_checked_) {
      const int64_t gap =
          w_.provider_calls_ns[calls_checked_] - w_.provider_calls_ns[calls_checked_ - 1];
      if (gap < 200'000'000) {
        return "provider calls 200 ms apart or less: the rate limit was exceeded";
      }
    }
    if (row->status == "suspect" && w_.ProviderDown(w_.clock().MonotonicNanos())) {
      result_.coverage.hits["API outage during detection"] = 1;
    }
    return "";
  }

  std::string CheckFailovers(const ProtectedInstance& row) {
    auto events = w_.state()->ListFailoverEvents({.instance_id = kName});
    if (!events) return "the state store failed: " + events.error().message;
    const int64_t now_ms = NowMillis(&w_.clock());
    bool running = false;
    for (const FailoverEvent& e : *events) {
      if (e.trigger == "initial") continue;
      if (e.completed_at == 0) {
        running = true;
        if (now_ms - e.started_at > kFailoverBoundS * 1000) {
          return "failover " + e.failover_id + " still runs after " +
                 std::to_string(kFailoverBoundS) + " s";
        }
      }
      if (judged_.insert(e.failover_id).second && !Warranted(e)) {
        return "failover " + e.failover_id + " (" + e.trigger +
               ") of a host that never failed long enough: " + e.note;
      }
      if (e.completed_at > 0 && e.success && validated_.insert(e.failover_id).second) {
        auto host = w_.hosts().find(e.new_instance_id);
        if (host == w_.hosts().end() || host->second.validated != e.snapshot_id ||
            w_.catalog.count(e.snapshot_id) == 0) {
          return "failover " + e.failover_id + " finished without a validated restore of " +
                 e.snapshot_id;
        }
        if (e.trigger == "host_dead") result_.mttr_ms.push_back(e.total_ms);
        if (e.note.find("final snapshot failed (timed out") != std::string::npos) {
          result_.coverage.hits["final snapshot timed out"] = 1;
        }
      }
    }
    running_ = running;
    // Only a failover fences: no machine that served is destroyed otherwise (renting on
    // suspicion never touches the host under suspicion).
    for (const std::string& id : primaries_) {
      auto host = w_.hosts().find(id);
      if (host == w_.hosts().end() || !host->second.destroyed || id == row.provider_instance_id) {
        continue;
      }
      // Fenced by a failover of it that had begun (renting on suspicion never destroys it).
      bool fenced = false;
      for (const FailoverEvent& e : *events) {
        // (started_at is in whole milliseconds)
        fenced |= e.original_instance_id == id &&
                  MonoOf(e.started_at) <= host->second.destroyed_ns + 1'000'000;
      }
      if (!fenced) return "machine " + id + " served and was destroyed without a failover";
    }
    return "";
  }

  // Called right after CheckInvariants, whose reading of the failovers is current.
  bool Quiet() {
    auto row = Row();
    if (!row || row->status != "healthy" || running_) return false;
    auto serving = Serving();
    if (serving.size() != 1 || serving[0] != row->provider_instance_id) return false;
    return w_.market()->LiveInstances() == 1;
  }

  // What keeps the system from being quiet, in one line.
  std::string Unquiet() {
    auto row = Row();
    std::string why = "instance " + (row ? row->status + " on " + row->provider_instance_id
                                         : std::string("gone"));
    auto market = w_.market()->List("");
    if (market) {
      why += "; machines rented:";
      for (const Instance& i : *market) why += " " + i.id;
    }
    auto serving = Serving();
    why += "; serving:";
    for (const std::string& id : serving) why += " " + id;
    return why;
  }

  SeedResult Violation(const std::string& what) {
    result_.violation = what;
    return Finish();
  }
  // The cost side of renting on suspicion, read from the controller's decision lines and the
  // market's bill.
  void Account() {
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
    }
    for (const auto& [id, seconds] : w_.market()->BilledSeconds()) {
      if (!primaries_.contains(id)) result_.loser_instance_s += seconds;
    }
  }

  SeedResult Finish() {
    Account();
    if (w_.seen.rate_limited_in_race) result_.coverage.hits["429 during a race"] = 1;
    if (w_.seen.replacement_died_mid_restore) {
      result_.coverage.hits["a replacement died mid-restore"] = 1;
    }
    result_.trace = w_.trace();
    return std::move(result_);
  }

  World w_;
  const SimOptions options_;
  SeedResult result_;
  std::set<std::string> primaries_;  // every machine that served the instance
  // What CheckInvariants last read of the failovers, and what it has checked already.
  int64_t events_version_ = -1;
  bool running_ = false;
  size_t destroyed_primaries_ = 0;
  size_t calls_checked_ = 1;
  size_t reaper_lines_ = 0;  // trace lines already searched for the reaper's finds
  std::vector<Event> events_;
  std::map<std::string, std::vector<Window>> faults_;
  std::set<std::string> judged_, validated_;
  int64_t start_ns_ = 0;
  int64_t start_ms_ = 0;
  int64_t last_version_ = 0;
  bool healed_ = false;
  bool restart_ = false;
};

}  // namespace

const std::vector<std::string>& RequiredCoverage() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (FailoverPhase p : CrashPhases()) n.push_back(CrashName(p));
    n.insert(n.end(), {"a replacement died mid-restore", "429 during a race",
                       "API outage during detection", "final snapshot timed out"});
    return n;
  }();
  return names;
}

SeedResult RunSeed(uint64_t seed, const SimOptions& options) {
  return SeedRun(seed, options).Run();
}

}  // namespace standby::sim
