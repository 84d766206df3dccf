#include "provision/provisioner.h"

#include <algorithm>

#include "base/log.h"
#include "provision/ownership.h"
#include "provision/reaper.h"

namespace standby {

Result<RaceOptions> RaceOptionsFromConfig(const Config& config) {
  ASSIGN_OR_RETURN(uint64_t initial, config.GetUint("race.initial_batch"));
  ASSIGN_OR_RETURN(uint64_t in_flight, config.GetUint("race.max_in_flight"));
  ASSIGN_OR_RETURN(uint64_t rounds, config.GetUint("race.max_rounds"));
  if (initial < 1 || in_flight < initial || rounds < 1 || in_flight > 64 || rounds > 100) {
    return InvalidArgumentError(
        "need 1 <= --initial <= --max-in-flight <= 64 and 1 <= --rounds <= 100");
  }
  RaceOptions options;
  options.initial_batch = static_cast<int>(initial);
  options.max_in_flight = static_cast<int>(in_flight);
  options.max_rounds = static_cast<int>(rounds);
  return options;
}

RaceOptions TuneRaceFor(RaceOptions options, const OpenedProvider& opened) {
  const std::string name = opened.provider->Name();
  if (name == "local" && opened.market_profile) {
    const MarketProfile& p = *opened.market_profile;
    options.default_p50_s = p.boot_median_s * p.time_scale;
    options.default_round_timeout_s = (p.boot_p90_s + 10) * p.time_scale;
    options.poll_interval = std::chrono::milliseconds(250);
  } else if (name == "vast") {
    options.poll_interval = std::chrono::milliseconds(3000);
  } else {
    options.poll_interval = std::chrono::milliseconds(500);
  }
  return options;
}

void LoadReadinessModel(const std::vector<ProvisioningAttempt>& attempts,
                        const std::string& provider, KaplanMeierModel* model) {
  for (const ProvisioningAttempt& a : attempts) {
    if (!provider.empty() && a.provider != provider) continue;
    if (a.ready_ms >= 0) {
      model->Record(a.ready_ms / 1000.0, true);
    } else if (a.censored_ms >= 0) {
      model->Record(a.censored_ms / 1000.0, false);
    }
  }
}

Provisioner::Provisioner(Provider* provider, ReadinessProbe* probe, StateStore* state, Clock* clock,
                         Random* random, RaceOptions options, std::string controller)
    : provider_(provider),
      probe_(probe),
      state_(state),
      clock_(clock),
      random_(random),
      options_(std::move(options)),
      controller_(std::move(controller)) {}

std::string Provisioner::LabelPrefix() const { return ControllerLabelPrefix(controller_); }

std::string Provisioner::LabelFor(const std::string& purpose, const std::string& tag) const {
  return LabelPrefix() + purpose + ":" + tag;
}

void Provisioner::LoadHistoryOnce() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (loaded_) return;
  }
  // Read without the lock: a slow database holds up no other race, and no task waits on a
  // database call while holding a mutex (the simulation's scheduler switches there).
  auto attempts = state_->ListProvisioningAttempts(provider_->Name());
  if (!attempts) {
    spdlog::warn("no readiness history yet ({}); the next race reads it again",
                 attempts.error().message);
    return;
  }
  const int64_t now_ms = NowMillis(clock_);
  auto blacklisted = state_->ActiveBlacklist(now_ms);
  std::lock_guard<std::mutex> lock(mu_);
  if (loaded_) return;
  loaded_ = true;
  LoadReadinessModel(*attempts, provider_->Name(), &model_);
  if (!blacklisted) return;
  for (const BlacklistEntry& e : *blacklisted) {
    blacklist_.Add(e.machine_id, clock_->MonotonicNanos() + (e.until - now_ms) * 1'000'000);
  }
}

ReadinessReport Provisioner::Readiness() {
  LoadHistoryOnce();
  ReadinessReport r;
  r.samples = model_.Samples();
  r.ready = model_.ReadySamples();
  r.p50_s = model_.Quantile(0.5);
  r.p90_s = model_.Quantile(0.9);
  r.never_ready_share = r.ready > 0 ? model_.NeverReadyShare() : 0;
  r.planned = PlannedRaceTimings(model_, options_);
  r.from_history = r.samples >= options_.model_min_samples;
  return r;
}

void Provisioner::Blacklist(const std::string& machine_id, const std::string& reason) {
  const auto period = std::chrono::nanoseconds(options_.blacklist_for);
  blacklist_.Add(machine_id, clock_->MonotonicNanos() + period.count());
  state_
      ->BlacklistMachine(
          {machine_id, reason,
           NowMillis(clock_) +
               std::chrono::duration_cast<std::chrono::milliseconds>(period).count()})
      .IgnoreError();  // spooled when the database is away
}

void Provisioner::RecordHistory(const ProvisionRequest& request, const std::string& label,
                                int64_t started_unix_ms, const RaceResult& r) {
  bool hits_recorded = false;
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const CandidateOutcome& c = r.candidates[i];
    if (c.outcome == RaceOutcome::kOrphanReaped) continue;
    ProvisioningAttempt a;
    a.attempt_id = label + ":" + std::to_string(i);
    a.failover_id = request.failover_id;
    a.provider = provider_->Name();
    a.offer_id = c.offer_id;
    a.machine_id = c.machine_id;
    a.provider_instance_id = c.instance_id;
    a.launched_at = started_unix_ms + static_cast<int64_t>(c.launched_at_s * 1000);
    if (c.outcome == RaceOutcome::kWon) {
      a.ready_ms = static_cast<int64_t>(c.ready_after_s * 1000);
    } else if (!c.instance_id.empty()) {
      a.censored_ms = static_cast<int64_t>(c.alive_s * 1000);
    }
    a.outcome = std::string(RaceOutcomeName(c.outcome));
    if (!hits_recorded) a.rate_limit_hits = static_cast<int>(r.rate_limit_hits);
    hits_recorded = true;
    state_->RecordProvisioningAttempt(a).IgnoreError();  // spooled when the database is away
    if (MachineFailed(c.outcome)) {
      state_
          ->BlacklistMachine(
              {c.machine_id, std::string(RaceOutcomeName(c.outcome)),
               NowMillis(clock_) + std::chrono::milliseconds(options_.blacklist_for).count()})
          .IgnoreError();
    }
  }
}

Status Provisioner::RecordOwnership(const ProvisionRequest& request, const std::string& label,
                                    const Instance& winner, int64_t ready_unix_ms) {
  ProviderInstanceRow row;
  row.provider = provider_->Name();
  row.provider_instance_id = winner.id;
  row.machine_id = winner.machine_id;
  row.label = label;
  row.purpose = request.role;
  row.gpu_name = winner.gpu_name;
  row.price_per_hour = winner.price_per_hour;
  row.created_at = winner.created_unix_ms;
  row.ready_at = ready_unix_ms;
  row.instance_id = request.instance_id;
  row.controller = controller_;
  Status status = OkStatus();
  auto backoff = std::chrono::milliseconds(250);
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (attempt > 0) {
      clock_->SleepFor(backoff);
      backoff *= 2;
    }
    status = state_->RecordProviderInstance(row);
    if (status) return status;
    spdlog::warn("recording ownership of instance {} failed: {}", winner.id,
                 status.error().message);
  }
  return status;
}

Result<std::vector<HeadStartCandidate>> Provisioner::LaunchAhead(const ProvisionRequest& request,
                                                                 int count) {
  LoadHistoryOnce();
  LaunchSpec spec = request.launch;
  spec.label = LabelFor(request.purpose, request.tag.empty() ? random_->HexId(8) : request.tag);
  ASSIGN_OR_RETURN(auto offers, provider_->SearchOffers(request.filter));
  std::vector<Offer> usable;
  const int64_t now = clock_->MonotonicNanos();
  for (Offer& offer : offers) {
    const bool avoided = std::find(request.avoid_machines.begin(), request.avoid_machines.end(),
                                   offer.machine_id) != request.avoid_machines.end();
    if (!avoided && !blacklist_.Contains(offer.machine_id, now)) usable.push_back(std::move(offer));
  }
  RankOffers(&usable);
  std::vector<HeadStartCandidate> launched;
  for (const Offer& offer : usable) {
    if (static_cast<int>(launched.size()) >= count) break;
    auto created = provider_->Create(offer, spec);
    if (!created) {
      if (created.error().code == ErrorCode::kNotFound) continue;  // a stale offer
      if (launched.empty()) return created.error();
      break;
    }
    launched.push_back({offer, *created, clock_->MonotonicNanos()});
  }
  return launched;
}

Result<ProvisionOutcome> Provisioner::Provision(const ProvisionRequest& request) {
  LoadHistoryOnce();
  for (const std::string& machine : request.avoid_machines) {
    blacklist_.Add(machine, clock_->MonotonicNanos() +
                                std::chrono::nanoseconds(options_.blacklist_for).count());
  }
  ProvisionOutcome out;
  out.label = LabelFor(request.purpose, request.tag.empty() ? random_->HexId(8) : request.tag);
  LaunchSpec spec = request.launch;
  spec.label = out.label;
  const int64_t started_unix_ms = NowMillis(clock_);
  RaceOptions options = options_;
  options.cancel = request.cancel;
  options.state = state_;
  options.on_launched = request.on_launched;
  options.head_start = request.head_start;
  ASSIGN_OR_RETURN(out.race, RunRace(provider_, probe_, &model_, &blacklist_, clock_,
                                     request.filter, spec, options));
  // The winner's ownership first: the history behind it may be slow (it spools when the
  // database is away) and must not delay what decides whether the winner stays.
  Status owned = out.race.winner
                     ? RecordOwnership(request, out.label, *out.race.winner, NowMillis(clock_))
                     : OkStatus();
  RecordHistory(request, out.label, started_unix_ms, out.race);
  if (!out.race.winner) return out;
  const Instance& w = *out.race.winner;
  out.ssh_user =
      w.ssh.empty() || w.ssh.front().user.empty() ? request.ssh_user : w.ssh.front().user;
  if (!owned) {
    Status gone = DestroyAndConfirm(provider_, state_, w.id, clock_);
    std::string fate = gone ? "it was destroyed, so nothing is left unowned"
                            : "destroying it failed too (" + gone.error().message + ")";
    return UnavailableError("rented instance " + w.id +
                            " but could not record its ownership in the state store (" +
                            owned.error().message + "); " + fate);
  }
  return out;
}

}  // namespace standby
