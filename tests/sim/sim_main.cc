// standby_sim: the deterministic simulation of the controller (docs/design.md, "The
// deterministic simulation"). Runs seeds (each a world, a scenario and the real controller),
// checks the invariants after every round and the coverage over the run, and prints a
// failing seed's trace with the command that replays it.
//
//   standby_sim [--seeds N] [--first S] [--threads T]   a run (default 10000 seeds from 1)
//   standby_sim --seed S                                 replays one seed, printing its trace
//   standby_sim --expect-violation TEXT --seeds N        succeeds only if some seed fails
//                                                        with TEXT in its violation (the
//                                                        planted-bug build)
//   --no-speculation                                     without renting on suspicion
//   --cold-only                                          only clean cold failovers (MTTR)
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/sim/sim_run.h"

namespace {

int64_t Percentile(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size()) + 0.999999);
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

void PrintTrace(const standby::sim::SeedResult& r) {
  std::fprintf(stderr, "seed %llu: %s\n", static_cast<unsigned long long>(r.seed),
               r.violation.empty() ? "every invariant held" : r.violation.c_str());
  for (const std::string& line : r.trace) std::fprintf(stderr, "  %s\n", line.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t seeds = 10000, first = 1;
  int threads = 2;
  bool replay = false, expect_violation = false;
  std::string expected;
  standby::sim::SimOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> uint64_t {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "error: %s wants a number\n", arg.c_str());
        std::exit(2);
      }
      return std::strtoull(argv[++i], nullptr, 10);
    };
    if (arg == "--seeds") {
      seeds = value();
    } else if (arg == "--first") {
      first = value();
    } else if (arg == "--threads") {
      threads = static_cast<int>(std::max<uint64_t>(1, value()));
    } else if (arg == "--seed") {
      first = value();
      seeds = 1;
      replay = true;
    } else if (arg == "--cold-only") {
      options.cold_only = true;
    } else if (arg == "--no-speculation") {
      options.speculative_race = false;
    } else if (arg == "--expect-violation") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "error: --expect-violation wants the text the violation holds\n");
        return 2;
      }
      expect_violation = true;
      expected = argv[++i];
    } else {
      std::fprintf(stderr, "error: unknown option %s\n", arg.c_str());
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::off);  // the trace is the simulation's output
  // Worlds share nothing; SQLite's global allocation statistics would serialize them.
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  if (replay) {
    standby::sim::SeedResult r = standby::sim::RunSeed(first, options);
    PrintTrace(r);
    return r.violation.empty() ? 0 : 1;
  }
  const auto started = std::chrono::steady_clock::now();
  std::atomic<uint64_t> next{first};
  std::mutex mu;
  std::vector<standby::sim::SeedResult> failures;
  standby::sim::Coverage coverage;
  std::vector<int64_t> mttr;
  uint64_t unplaced = 0;
  int64_t rentals = 0, false_suspicions = 0, false_rentals = 0;
  double loser_s = 0;
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      while (!stop) {
        const uint64_t seed = next++;
        if (seed >= first + seeds) return;
        standby::sim::SeedResult r = standby::sim::RunSeed(seed, options);
        std::lock_guard<std::mutex> lock(mu);
        rentals += r.speculative_rentals;
        false_suspicions += r.false_suspicions;
        false_rentals += r.false_suspicion_rentals;
        loser_s += r.loser_instance_s;
        coverage.Add(r.coverage);
        mttr.insert(mttr.end(), r.mttr_ms.begin(), r.mttr_ms.end());
        unplaced += r.placed ? 0 : 1;
        if (!r.violation.empty()) {
          const bool wanted = expect_violation && r.violation.find(expected) != std::string::npos;
          failures.push_back(std::move(r));
          if (wanted) stop = true;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("%llu seeds from %llu in %.1f s on %d threads: %zu violation(s), %llu unplaced\n",
              static_cast<unsigned long long>(seeds), static_cast<unsigned long long>(first),
              elapsed, threads, failures.size(), static_cast<unsigned long long>(unplaced));
  std::printf("cold failovers: %zu, MTTR p50 %.1f s, p90 %.1f s, p99 %.1f s\n", mttr.size(),
              Percentile(mttr, 50) / 1000.0, Percentile(mttr, 90) / 1000.0,
              Percentile(mttr, 99) / 1000.0);
  std::printf(
      "renting on suspicion %s: %lld machines rented ahead, %lld false suspicions (%.2f "
      "machines each), loser instance-minutes %.2f per seed\n",
      options.speculative_race ? "on" : "off", static_cast<long long>(rentals),
      static_cast<long long>(false_suspicions),
      false_suspicions ? static_cast<double>(false_rentals) / false_suspicions : 0.0,
      loser_s / 60.0 / static_cast<double>(seeds));
  if (expect_violation) {
    if (failures.empty()) {
      std::printf("FAIL: the planted bug was not found in %llu seeds\n",
                  static_cast<unsigned long long>(seeds));
      return 1;
    }
    std::sort(failures.begin(), failures.end(),
              [](const auto& a, const auto& b) { return a.seed < b.seed; });
    for (const auto& f : failures) {
      if (f.violation.find(expected) == std::string::npos) continue;
      std::printf("found the planted bug at seed %llu: %s\n",
                  static_cast<unsigned long long>(f.seed), f.violation.c_str());
      return 0;
    }
    std::printf("FAIL: %zu violation(s), none with \"%s\" (first: seed %llu: %s)\n",
                failures.size(), expected.c_str(),
                static_cast<unsigned long long>(failures[0].seed), failures[0].violation.c_str());
    return 1;
  }
  bool ok = failures.empty();
  for (const std::string& name : standby::sim::RequiredCoverage()) {
    const int hits = coverage.hits[name];
    std::printf("  %-34s %6d seed(s)%s\n", name.c_str(), hits, hits == 0 ? "  MISSED" : "");
    if (hits == 0) ok = false;
  }
  if (!failures.empty()) {
    std::sort(failures.begin(), failures.end(),
              [](const auto& a, const auto& b) { return a.seed < b.seed; });
    PrintTrace(failures[0]);
    for (const auto& f : failures) {
      std::printf("FAIL seed %llu: %s (replay: standby_sim --seed %llu)\n",
                  static_cast<unsigned long long>(f.seed), f.violation.c_str(),
                  static_cast<unsigned long long>(f.seed));
    }
  }
  return ok ? 0 : 1;
}
