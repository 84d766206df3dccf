#include "provision/race.h"

#include <algorithm>
#include <set>

#include "base/enum_names.h"
#include "base/log.h"
#include "provision/ownership.h"

namespace standby {
namespace {

constexpr EnumName<RaceOutcome> kRaceOutcomes[] = {
    {RaceOutcome::kWon, "won"},
    {RaceOutcome::kLost, "lost"},
    {RaceOutcome::kTimedOut, "timed_out"},
    {RaceOutcome::kExited, "exited"},
    {RaceOutcome::kOffline, "offline"},
    {RaceOutcome::kProbeFailed, "probe_failed"},
    {RaceOutcome::kStaleOffer, "stale_offer"},
    {RaceOutcome::kCreateFailed, "create_failed"},
    {RaceOutcome::kOrphanReaped, "orphan_reaped"},
    {RaceOutcome::kCancelled, "cancelled"},
    {RaceOutcome::kPending, "pending"},
};

}  // namespace

std::string_view RaceOutcomeName(RaceOutcome outcome) {
  return NameIn<RaceOutcome>(kRaceOutcomes, outcome);
}
std::optional<RaceOutcome> ParseRaceOutcome(std::string_view name) {
  return ParseIn<RaceOutcome>(kRaceOutcomes, name);
}
bool MachineFailed(RaceOutcome outcome) {
  return outcome == RaceOutcome::kTimedOut || outcome == RaceOutcome::kExited ||
         outcome == RaceOutcome::kOffline || outcome == RaceOutcome::kProbeFailed;
}

void Blacklist::Add(const std::string& machine_id, int64_t until_monotonic_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  until_[machine_id] = std::max(until_[machine_id], until_monotonic_ns);
}

bool Blacklist::Contains(const std::string& machine_id, int64_t now_monotonic_ns) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = until_.find(machine_id);
  return it != until_.end() && it->second > now_monotonic_ns;
}

void RankOffers(std::vector<Offer>* offers) {
  // Cheapest per unit of reliability first; among equals, the faster download (the restore
  // pulls the workspace through it).
  std::stable_sort(offers->begin(), offers->end(), [](const Offer& a, const Offer& b) {
    double ca = a.price_per_hour / std::max(a.reliability, 0.01);
    double cb = b.price_per_hour / std::max(b.reliability, 0.01);
    if (ca != cb) return ca < cb;
    return a.download_mbps > b.download_mbps;
  });
}

namespace {

constexpr int kProbeAttempts = 3;

// One race's bookkeeping.
class Race {
 public:
  Race(Provider* provider, ReadinessProbe* probe, ReadinessModel* model, Blacklist* blacklist,
       Clock* clock, const LaunchSpec& spec, const RaceOptions& options)
      : provider_(provider),
        probe_(probe),
        model_(model),
        blacklist_(blacklist),
        clock_(clock),
        spec_(spec),
        options_(options),
        start_ns_(clock->MonotonicNanos()),
        hits_at_start_(provider->RateLimitHits()),
        list_prefix_(spec.label) {}

  Result<RaceResult> Run(const OfferFilter& filter) {
    RaceTimings timings = PlannedRaceTimings(*model_, options_);
    hedge_after_s_ = timings.hedge_after_s;
    round_timeout_s_ = timings.round_timeout_s;
    result_.hedge_after_s = hedge_after_s_;
    result_.round_timeout_s = round_timeout_s_;
    for (const HeadStartCandidate& h : options_.head_start) tried_.insert(h.offer.offer_id);
    for (int round = 1; round <= options_.max_rounds && !result_.winner && !Cancelled(); ++round) {
      const bool head_start = round == 1 && !options_.head_start.empty();
      auto offers = provider_->SearchOffers(filter);
      if (!offers && !head_start) {
        if (round == 1) return offers.error();
        spdlog::warn("offer search failed in round {}: {}", round, offers.error().message);
        break;
      }
      std::vector<Offer> usable;
      for (Offer& offer : offers ? *offers : std::vector<Offer>()) {
        if (!tried_.contains(offer.offer_id) &&
            !blacklist_->Contains(offer.machine_id, clock_->MonotonicNanos())) {
          usable.push_back(std::move(offer));
        }
      }
      if (usable.empty() && !head_start) break;  // offers ran out
      RankOffers(&usable);
      result_.rounds = round;
      RunRound(round, usable);
    }
    if (!options_.head_start.empty() && !head_start_adopted_) {
      // Cancelled before its first round: the head start is the race's to retire.
      AdoptHeadStart();
      Retire(std::move(live_), RaceOutcome::kCancelled, false);
      live_.clear();
    }
    if (Cancelled()) {
      if (result_.winner) {  // found as the signal came: the caller no longer wants it
        result_.winner.reset();
        result_.ready_after_s = -1;
        CandidateOutcome& c = result_.candidates[winner_.index];
        c.outcome = RaceOutcome::kCancelled;
        c.alive_s = SecondsSince(winner_.created_ns);
        c.destroy_confirmed = DestroyAndConfirm(c.instance_id, &c.detail);
        if (c.destroy_confirmed) probe_->Forget(winner_.last);
      }
      result_.cancelled = true;
    }
    ReapOwnLabel();
    Finish();
    return std::move(result_);
  }

 private:
  struct Live {
    size_t index;  // into result_.candidates
    int64_t created_ns;
    Instance last;
    int probe_failures = 0;
  };

  bool Cancelled() const { return options_.cancel != nullptr && options_.cancel->IsSet(); }

  // One poll interval, cut short by a cancel.
  void WaitForNextPoll() { SleepUnlessStopped(clock_, options_.poll_interval, options_.cancel); }

  double SecondsSince(int64_t ns) const { return (clock_->MonotonicNanos() - ns) / 1e9; }

  // fn(0..n-1), side by side on the options' executor.
  void ForEach(size_t n, const std::function<void(size_t)>& fn) {
    if (n == 0) return;
    RunEach(options_.executor, "race", n, fn);
  }

  bool Launch(int round, const std::vector<Offer>& offers, size_t* next) {
    while (*next < offers.size() && !Cancelled()) {
      const Offer& offer = offers[(*next)++];
      tried_.insert(offer.offer_id);
      CandidateOutcome c;
      c.offer_id = offer.offer_id;
      c.machine_id = offer.machine_id;
      c.gpu_name = offer.gpu_name;
      c.price_per_hour = offer.price_per_hour;
      c.round = round;
      c.launched_at_s = SecondsSince(start_ns_);
      auto created = provider_->Create(offer, spec_);
      if (!created) {
        c.outcome = created.error().code == ErrorCode::kNotFound ? RaceOutcome::kStaleOffer
                                                                 : RaceOutcome::kCreateFailed;
        c.detail = created.error().message;
        result_.candidates.push_back(std::move(c));
        continue;
      }
      c.instance_id = created->id;
      if (options_.on_launched) options_.on_launched(created->id);
      result_.candidates.push_back(std::move(c));
      live_.push_back({result_.candidates.size() - 1, clock_->MonotonicNanos(), *created});
      return true;
    }
    return false;
  }

  // Ends `lost` candidates with `outcome`: destroyed in parallel, confirmed gone, their
  // censored times recorded; `failed` ones are blacklisted.
  void Retire(std::vector<Live> lost, RaceOutcome outcome, bool failed) {
    for (const Live& l : lost) {
      CandidateOutcome& c = result_.candidates[l.index];
      c.outcome = outcome;
      c.alive_s = SecondsSince(l.created_ns);
      model_->Record(c.alive_s, false);
      if (failed) {
        blacklist_->Add(c.machine_id, clock_->MonotonicNanos() +
                                          std::chrono::nanoseconds(options_.blacklist_for).count());
      }
    }
    ForEach(lost.size(), [&](size_t i) {
      CandidateOutcome& c = result_.candidates[lost[i].index];
      c.destroy_confirmed = DestroyAndConfirm(c.instance_id, &c.detail);
      if (c.destroy_confirmed) probe_->Forget(lost[i].last);
    });
  }

  bool DestroyAndConfirm(const std::string& id, std::string* detail) {
    Status gone = standby::DestroyAndConfirm(
        provider_, options_.state, id, clock_,
        {.attempts = options_.confirm_attempts, .poll = options_.poll_interval});
    if (!gone) *detail = gone.error().message;
    return gone.has_value();
  }

  // Round 1's head start: the candidates launched before the race, as if it had.
  void AdoptHeadStart() {
    head_start_adopted_ = true;
    for (const HeadStartCandidate& h : options_.head_start) {
      CandidateOutcome c;
      c.offer_id = h.offer.offer_id;
      c.machine_id = h.offer.machine_id;
      c.gpu_name = h.offer.gpu_name;
      c.price_per_hour = h.offer.price_per_hour;
      c.round = 1;
      c.launched_at_s = (h.created_ns - start_ns_) / 1e9;  // before the race: negative
      c.instance_id = h.instance.id;
      result_.candidates.push_back(std::move(c));
      live_.push_back({result_.candidates.size() - 1, h.created_ns, h.instance});
      // They may carry another label: list what both labels share.
      size_t common = 0;
      while (common < list_prefix_.size() && common < h.instance.label.size() &&
             list_prefix_[common] == h.instance.label[common]) {
        ++common;
      }
      list_prefix_.resize(common);
    }
  }

  void RunRound(int round, const std::vector<Offer>& offers) {
    size_t next = 0;
    const int64_t round_start = clock_->MonotonicNanos();
    if (round == 1) AdoptHeadStart();
    while (static_cast<int>(live_.size()) < options_.initial_batch) {
      if (!Launch(round, offers, &next)) break;
    }
    while (!live_.empty()) {
      WaitForNextPoll();
      if (Cancelled()) break;
      if (Poll()) return;
      // Keep the batch full when candidates failed, and hedge while nothing is ready.
      while (static_cast<int>(live_.size()) < options_.initial_batch &&
             Launch(round, offers, &next)) {
      }
      if (options_.hedge && static_cast<int>(live_.size()) < options_.max_in_flight &&
          !live_.empty()) {
        int64_t newest = 0;
        for (const Live& l : live_) newest = std::max(newest, l.created_ns);
        if (SecondsSince(newest) >= hedge_after_s_) Launch(round, offers, &next);
      }
      if (SecondsSince(round_start) >= round_timeout_s_) {
        Retire(std::move(live_), RaceOutcome::kTimedOut, true);
        live_.clear();
        return;
      }
    }
    if (Cancelled()) {
      Retire(std::move(live_), RaceOutcome::kCancelled, false);
      live_.clear();
    }
  }

  // One listing for every candidate; failures retired, running ones probed in parallel.
  // True when a winner was found.
  bool Poll() {
    auto listed = provider_->List(list_prefix_);
    if (!listed) {
      spdlog::warn("listing instances failed: {}", listed.error().message);
      return false;
    }
    std::map<std::string, Instance> by_id;
    for (Instance& instance : *listed) by_id[instance.id] = std::move(instance);
    std::vector<Live> still, failed_exited, failed_offline;
    std::vector<size_t> running;
    for (Live& l : live_) {
      auto it = by_id.find(result_.candidates[l.index].instance_id);
      if (it != by_id.end()) l.last = it->second;
      if (l.last.state == InstanceState::kExited) {
        result_.candidates[l.index].detail = l.last.status_message;
        failed_exited.push_back(l);
      } else if (l.last.state == InstanceState::kOffline) {
        failed_offline.push_back(l);
      } else {
        bool probe = l.last.state == InstanceState::kRunning ||
                     (options_.probe_before_running && l.last.state == InstanceState::kLoading);
        if (probe && !l.last.ssh.empty()) running.push_back(still.size());
        still.push_back(l);
      }
    }
    live_ = std::move(still);
    Retire(std::move(failed_exited), RaceOutcome::kExited, true);
    Retire(std::move(failed_offline), RaceOutcome::kOffline, true);

    std::vector<Status> probes(running.size(), UnavailableError("not probed"));
    if (options_.sequential_probes) {
      for (size_t i = 0; i < running.size(); ++i) {
        probes[i] = probe_->Probe(live_[running[i]].last);
        if (probes[i]) break;
      }
    } else {
      ForEach(running.size(), [&](size_t i) { probes[i] = probe_->Probe(live_[running[i]].last); });
    }
    std::optional<size_t> winner;
    std::vector<size_t> given_up;
    for (size_t i = 0; i < running.size(); ++i) {
      Live& l = live_[running[i]];
      if (probes[i]) {
        if (!winner) winner = running[i];
      } else if (l.last.state == InstanceState::kRunning && ++l.probe_failures >= kProbeAttempts) {
        result_.candidates[l.index].detail = probes[i].error().message;
        given_up.push_back(running[i]);
      }
    }
    if (winner) {
      Live won = live_[*winner];
      CandidateOutcome& c = result_.candidates[won.index];
      c.outcome = RaceOutcome::kWon;
      c.ready_after_s = SecondsSince(won.created_ns);
      c.alive_s = c.ready_after_s;
      model_->Record(c.ready_after_s, true);
      result_.winner = won.last;
      result_.ready_after_s = c.ready_after_s;
      result_.elapsed_s = SecondsSince(start_ns_);
      winner_ = won;
      std::vector<Live> losers;
      for (size_t i = 0; i < live_.size(); ++i) {
        if (i != *winner) losers.push_back(live_[i]);
      }
      live_.clear();
      Retire(std::move(losers), RaceOutcome::kLost, false);
      return true;
    }
    std::vector<Live> probe_failed;
    for (auto it = given_up.rbegin(); it != given_up.rend(); ++it) {
      probe_failed.push_back(live_[*it]);
      live_.erase(live_.begin() + static_cast<std::ptrdiff_t>(*it));
    }
    Retire(std::move(probe_failed), RaceOutcome::kProbeFailed, true);
    return false;
  }

  // Anything still carrying this race's label but the winner is an orphan: a create whose
  // response was lost, or a destroy that did not take. Nothing else owns this label.
  void ReapOwnLabel() {
    auto listed = provider_->List(spec_.label);
    if (!listed) return;
    for (const Instance& instance : *listed) {
      if (instance.label != spec_.label) continue;
      if (result_.winner && instance.id == result_.winner->id) continue;
      CandidateOutcome c;
      c.instance_id = instance.id;
      c.machine_id = instance.machine_id;
      c.gpu_name = instance.gpu_name;
      c.outcome = RaceOutcome::kOrphanReaped;
      c.destroy_confirmed = DestroyAndConfirm(instance.id, &c.detail);
      result_.candidates.push_back(std::move(c));
    }
  }

  void Finish() {
    if (!result_.winner) result_.elapsed_s = SecondsSince(start_ns_);
    for (const CandidateOutcome& c : result_.candidates) {
      if (c.outcome != RaceOutcome::kWon) result_.loser_gpu_seconds += c.alive_s;
    }
    result_.rate_limit_hits = provider_->RateLimitHits() - hits_at_start_;
  }

  Provider* provider_;
  ReadinessProbe* probe_;
  ReadinessModel* model_;
  Blacklist* blacklist_;
  Clock* clock_;
  const LaunchSpec& spec_;
  const RaceOptions& options_;
  const int64_t start_ns_;
  const int64_t hits_at_start_;
  double hedge_after_s_ = 45;
  double round_timeout_s_ = 90;
  std::string list_prefix_;  // what Poll lists: the race's label, or what it shares with others
  bool head_start_adopted_ = false;
  std::set<std::string> tried_;
  std::vector<Live> live_;
  Live winner_{};
  RaceResult result_;
};

}  // namespace

RaceTimings PlannedRaceTimings(const ReadinessModel& model, const RaceOptions& options) {
  RaceTimings timings = TimingsFrom(model, options.model_min_samples, options.default_p50_s,
                                    options.default_round_timeout_s);
  return {options.hedge_after_s.value_or(timings.hedge_after_s * options.hedge_fraction_of_p50),
          options.round_timeout_s.value_or(timings.round_timeout_s)};
}

Result<RaceResult> RunRace(Provider* provider, ReadinessProbe* probe, ReadinessModel* model,
                           Blacklist* blacklist, Clock* clock, const OfferFilter& filter,
                           const LaunchSpec& spec, const RaceOptions& options) {
  if (spec.label.empty()) {
    return InvalidArgumentError("a race needs a label: it is how leaked instances are found");
  }
  Race race(provider, probe, model, blacklist, clock, spec, options);
  return race.Run(filter);
}

}  // namespace standby
