// Monte Carlo comparison of provisioning strategies on a simulated market (virtual clock):
// time from the start of the race to a ready machine, and GPU-minutes paid for machines
// that did not win. Usage: standby_race_sim [--races N] [--market vast-like|fast|FILE]
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "provider/simulated_market.h"
#include "provision/race.h"
#include "testing/deterministic_scheduler.h"

namespace standby {
namespace {

// A probe's cost in virtual time: 1.5 s for an SSH handshake plus the agent's answer on a
// running machine; on a machine still loading, what the seed's `ssh -o ConnectTimeout=5`,
// tried 3 times with 1 s and 2 s between (original-system.md §5), costs before giving up.
class TimedProbe : public ReadinessProbe {
 public:
  TimedProbe(Clock* clock, double ready_s, double unready_s)
      : clock_(clock), ready_s_(ready_s), unready_s_(unready_s) {}
  Status Probe(const Instance& instance) override {
    bool ready = instance.state == InstanceState::kRunning;
    clock_->SleepFor(
        std::chrono::milliseconds(static_cast<int64_t>(1000 * (ready ? ready_s_ : unready_s_))));
    return ready ? OkStatus() : UnavailableError("not ready");
  }

 private:
  Clock* clock_;
  double ready_s_, unready_s_;
};

struct Strategy {
  const char* name;
  RaceOptions options;
};

std::vector<Strategy> Strategies(const MarketProfile& profile) {
  // What a trained readiness model says for this market: p50 of boot, p90 + 10 s.
  const double p50 = profile.boot_median_s * profile.time_scale;
  const double timeout = profile.boot_p90_s * profile.time_scale + 10 * profile.time_scale;
  auto base = [&](int initial, int max_in_flight, bool hedge, double round_s, int rounds) {
    RaceOptions o;
    o.initial_batch = initial;
    o.max_in_flight = max_in_flight;
    o.hedge = hedge;
    o.hedge_after_s = p50;
    o.round_timeout_s = round_s;
    o.max_rounds = rounds;
    o.poll_interval = std::chrono::milliseconds(static_cast<int64_t>(1000 * profile.time_scale));
    return o;
  };
  RaceOptions ours = base(3, 4, true, timeout, 3);
  ours.hedge_after_s = p50 / 3;
  RaceOptions seed = base(5, 5, false, 90 * profile.time_scale, 2);
  seed.poll_interval = std::chrono::milliseconds(static_cast<int64_t>(2000 * profile.time_scale));
  seed.probe_before_running = true;
  seed.sequential_probes = true;
  RaceOptions seed_running = seed;
  seed_running.probe_before_running = false;
  return {
      {"one at a time (p90+10 s timeout, 10 rounds)", base(1, 1, false, timeout, 10)},
      {"seed: 5 per round, 90 s, 2 rounds, sequential probes of loading machines", seed},
      {"seed, probing only running machines (its best case)", seed_running},
      {"race 2 at once (p90+10 s, 3 rounds)", base(2, 2, false, timeout, 3)},
      {"hedged as the issue sketched: 2, +1 per p50, max 4 (p90+10 s, 3 rounds)",
       base(2, 4, true, timeout, 3)},
      {"hedged, standby's default: 3, +1 per p50/3, max 4 (p90+10 s, 3 rounds)", ours},
  };
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

int Main(int argc, char** argv) {
  int races = 10000;
  std::string market = "vast-like";
  // What one failed check of a still-loading machine costs the seed: 3.3 s when the proxy
  // refuses at once (only its 1 s + 2 s backoff), 18 s when each of 3 tries waits out
  // ConnectTimeout=5. The default is the seed's best case.
  double unready_s = 3.3;
  // --hedge INITIAL,MAX,AFTER_S adds a hedged strategy with those settings (exploration).
  std::vector<std::array<double, 3>> extra;
  // --default-only 1: only standby's default strategy, printed as "P50 P90" (seconds), for
  // bench/failover/run.sh.
  bool default_only = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--races") == 0) races = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--market") == 0) market = argv[i + 1];
    if (std::strcmp(argv[i], "--unready-probe-s") == 0) unready_s = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--default-only") == 0) default_only = std::atoi(argv[i + 1]) != 0;
    if (std::strcmp(argv[i], "--hedge") == 0) {
      std::array<double, 3> h{};
      if (std::sscanf(argv[i + 1], "%lf,%lf,%lf", &h[0], &h[1], &h[2]) == 3) extra.push_back(h);
    }
  }
  auto profile = LoadMarketProfile(market);
  if (!profile) {
    std::fprintf(stderr, "error: %s\n", profile.error().message.c_str());
    return 1;
  }
  for (MarketGpu& gpu : profile->gpus) gpu.machines = 40;  // never run out of offers
  if (!default_only)
    std::printf(
        "market %s: boot median %.0f s, p90 %.0f s, never ready %.0f%%, exit during "
        "boot %.0f%%; %d races per strategy\n\n",
        profile->name.c_str(), profile->boot_median_s * profile->time_scale,
        profile->boot_p90_s * profile->time_scale, profile->never_ready_share * 100,
        profile->exit_during_boot_share * 100, races);
  if (!default_only)
    std::printf(
        "| strategy | ready p50 | ready p90 | no machine | loser GPU-min paid (mean) | "
        "loser instance-min held (mean) | machines rented (mean) |\n"
        "|---|---|---|---|---|---|---|\n");
  std::vector<Strategy> strategies = Strategies(*profile);
  std::vector<std::string> names;
  for (const auto& h : extra)
    names.push_back("hedged: " + std::to_string(int(h[0])) + ", +1 per " +
                    std::to_string(int(h[2])) + " s, max " + std::to_string(int(h[1])));
  for (size_t i = 0; i < extra.size(); ++i) {
    Strategy s = strategies.back();
    s.name = names[i].c_str();
    s.options.initial_batch = static_cast<int>(extra[i][0]);
    s.options.max_in_flight = static_cast<int>(extra[i][1]);
    s.options.hedge_after_s = extra[i][2];
    strategies.push_back(s);
  }
  if (default_only) {
    Strategy ours = strategies.back();
    strategies = {ours};
  }
  for (const Strategy& strategy : strategies) {
    std::vector<double> ready;
    double loser_minutes = 0, loser_gpu_minutes = 0, rented = 0;
    int failed = 0;
    for (int i = 0; i < races; ++i) {
      // The race's own concurrency (probes and destroys side by side) on the deterministic
      // scheduler, whose clock jumps at once: replayable, and fast enough for thousands.
      DeterministicScheduler clock(
          {.seed = 1000 + static_cast<uint64_t>(i), .start = 1'700'000'000'000'000'000});
      SimulatedMarket sim(*profile, &clock, 1000 + static_cast<uint64_t>(i));
      TimedProbe probe(&clock, 1.5 * profile->time_scale, unready_s * profile->time_scale);
      KaplanMeierModel model;
      Blacklist blacklist;
      LaunchSpec spec;
      spec.label = "bench";
      OfferFilter filter;
      filter.limit = 0;
      RaceOptions options = strategy.options;
      options.executor = &clock;
      Result<RaceResult> r = InternalError("not run");
      clock.Run(
          [&] { r = RunRace(&sim, &probe, &model, &blacklist, &clock, filter, spec, options); });
      if (!r) {
        std::fprintf(stderr, "error: %s\n", r.error().message.c_str());
        return 1;
      }
      if (r->winner) {
        ready.push_back(r->elapsed_s);
      } else {
        ++failed;
      }
      loser_minutes += r->loser_gpu_seconds / 60;
      for (const auto& [id, seconds] : sim.RunningSeconds()) {
        if (!r->winner || id != r->winner->id) loser_gpu_minutes += seconds / 60;
      }
      for (const auto& c : r->candidates) rented += c.instance_id.empty() ? 0 : 1;
    }
    if (default_only) {
      std::printf("%.2f %.2f\n", Percentile(ready, 0.5), Percentile(ready, 0.9));
      continue;
    }
    std::printf("| %s | %.1f s | %.1f s | %.2f%% | %.3f | %.2f | %.2f |\n", strategy.name,
                Percentile(ready, 0.5), Percentile(ready, 0.9), 100.0 * failed / races,
                loser_gpu_minutes / races, loser_minutes / races, rented / races);
  }
  return 0;
}

}  // namespace
}  // namespace standby

int main(int argc, char** argv) { return standby::Main(argc, argv); }
