#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "env/clock.h"
#include "env/executor.h"
#include "env/stop_signal.h"
#include "provider/provider.h"
#include "provision/readiness_model.h"
#include "state/state_store.h"

namespace standby {

// Machines that failed us recently, by machine id (an offer id changes, the machine does
// not — the seed keyed its blacklist on offer ids, so it never matched). Thread-safe.
class Blacklist {
 public:
  void Add(const std::string& machine_id, int64_t until_monotonic_ns);
  bool Contains(const std::string& machine_id, int64_t now_monotonic_ns) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, int64_t> until_;
};

// The last step of "ready": the provider says running, then this must pass (an SSH
// handshake plus `standby-agent health` for real hosts). Called from several threads.
class ReadinessProbe {
 public:
  virtual ~ReadinessProbe() = default;
  virtual Status Probe(const Instance& instance) = 0;
  // `instance` was destroyed: forget what probing it left (its host-key pins).
  virtual void Forget(const Instance& /*instance*/) {}
};

// A machine launched before its race began (renting on suspicion, failover/speculation.h):
// it joins the race's first round as if the race had launched it, its boot counted from its
// own creation.
struct HeadStartCandidate {
  Offer offer;
  Instance instance;
  int64_t created_ns = 0;  // monotonic
};

// Defaults from bench/race_sim.cc on the vast-like market (docs/performance.md): three at
// once and a hedge every p50/3 beat the seed's p90 with about half its loser GPU-minutes;
// two at once with a hedge per p50 was cheaper but slower than the seed at p90.
struct RaceOptions {
  int initial_batch = 3;
  int max_in_flight = 4;
  bool hedge = true;  // launch another candidate each time the newest has waited hedge_after
  double hedge_fraction_of_p50 = 1.0 / 3;
  int max_rounds = 3;
  std::chrono::milliseconds poll_interval{2000};  // one List call per poll for all candidates
  std::chrono::seconds blacklist_for{3600};
  // Fixed timings instead of the readiness model's (p50 × fraction to hedge, p90 + 10 s per
  // round).
  std::optional<double> hedge_after_s;
  std::optional<double> round_timeout_s;
  // Until the model has `model_min_samples`: the provider's expected p50 and round timeout
  // (Vast: 45 s and 90 s; the local market: its profile's).
  size_t model_min_samples = 20;
  double default_p50_s = 45;
  double default_round_timeout_s = 90;
  // Destroys are confirmed by Get answering "not found"; this many attempts, one poll apart.
  int confirm_attempts = 5;
  // The seed's behaviour, kept to measure it (bench/race_sim.cc): probe candidates that
  // have an SSH endpoint but are still loading, one at a time in launch order.
  bool probe_before_running = false;
  bool sequential_probes = false;
  // Where probes and destroys run side by side (the simulation's scheduler in the simulation).
  Executor* executor = Executor::Threads();
  // Where a destroy the provider did not confirm is recorded as pending (ownership.h), so it
  // is retried rather than left to the reaper's age rule. Not owned; may be null.
  StateStore* state = nullptr;
  // When set (Ctrl-C), the race launches nothing more, destroys every candidate it launched
  // — a create in flight included, once it answers — confirms each is gone and returns
  // without a winner (RaceResult::cancelled). Not owned.
  StopSignal* cancel = nullptr;
  // Called with each created instance's id as soon as the provider answers, so a caller
  // that must exit at once can say what may be left.
  std::function<void(const std::string&)> on_launched;
  // Candidates already booting (they may carry another label): round 1 starts with them and
  // launches only what the batch still lacks; the race retires the ones that lose, and
  // keeps them even when the first offer search fails.
  std::vector<HeadStartCandidate> head_start;
};

// The hedge delay and round timeout a race with `options` uses given `model`: the fixed
// ones from `options` when set, else p50 × fraction and p90 + 10 s once the model has
// `model_min_samples`, else the defaults. `standby metrics` reports the same.
RaceTimings PlannedRaceTimings(const ReadinessModel& model, const RaceOptions& options);

// What became of one candidate of a race; the names are what provisioning_attempts stores
// and `provision --json` prints.
enum class RaceOutcome {
  kWon,
  kLost,          // destroyed when another candidate won
  kTimedOut,      // the round ended before it was ready
  kExited,        // the provider says it exited during boot
  kOffline,       // the provider says it went offline
  kProbeFailed,   // running, but SSH or the agent never answered
  kStaleOffer,    // the offer was taken before we could create
  kCreateFailed,  // the create request failed
  kOrphanReaped,  // found with the race's label after the race (a create whose answer was lost)
  kCancelled,     // destroyed because the race was cancelled
  kPending,       // still in the race
};
std::string_view RaceOutcomeName(RaceOutcome outcome);
std::optional<RaceOutcome> ParseRaceOutcome(std::string_view name);
// Outcomes that say the machine failed us (it is blacklisted for RaceOptions::blacklist_for).
bool MachineFailed(RaceOutcome outcome);

struct CandidateOutcome {
  std::string instance_id;
  std::string machine_id;
  std::string offer_id;
  std::string gpu_name;
  double price_per_hour = 0;
  int round = 0;
  RaceOutcome outcome = RaceOutcome::kPending;
  std::string detail;
  double launched_at_s = 0;   // since the race began
  double ready_after_s = -1;  // from create to ready; -1 when never ready
  double alive_s = 0;         // create → destroy (what was paid); 0 when never created
  bool destroy_confirmed = false;
};

struct RaceResult {
  std::optional<Instance> winner;
  double ready_after_s = -1;  // the winner's, from its create
  double elapsed_s = 0;       // from the race's start to the winner (or the end)
  int rounds = 0;
  std::vector<CandidateOutcome> candidates;
  double loser_gpu_seconds = 0;  // alive_s summed over every candidate but the winner
  int64_t rate_limit_hits = 0;
  // The timings the race used (from the readiness model or RaceOptions).
  double hedge_after_s = 0;
  double round_timeout_s = 0;
  bool cancelled = false;  // RaceOptions::cancel stopped it; every candidate was retired
};

// Rents one ready machine: ranks the offers (price per reliability, then bandwidth; skips
// blacklisted machines), launches `initial_batch`, hedges, replaces candidates that fail,
// and on the first ready one destroys every other candidate at once, in parallel, and
// confirms each is gone. A round ends at its timeout or when offers run out; failed and
// timed-out machines are blacklisted. Every candidate's time to ready (or its censored
// time) goes into `model`. Error only when the provider cannot be used at all; no winner
// after every round is a result without `winner`. Leaves no instance but the winner.
Result<RaceResult> RunRace(Provider* provider, ReadinessProbe* probe, ReadinessModel* model,
                           Blacklist* blacklist, Clock* clock, const OfferFilter& filter,
                           const LaunchSpec& spec, const RaceOptions& options);

// Offers in the order the race tries them.
void RankOffers(std::vector<Offer>* offers);

}  // namespace standby
