#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "env/clock.h"
#include "env/random.h"
#include "provision/provider_settings.h"
#include "provision/race.h"
#include "state/state_store.h"

namespace standby {

// The race settings from the configuration (race.initial_batch, race.max_in_flight,
// race.max_rounds), checked: 1 ≤ initial ≤ max in flight, rounds ≥ 1.
Result<RaceOptions> RaceOptionsFromConfig(const Config& config);
// `options` tuned for the provider: how often to poll it (one listing per poll), and its
// expected boot times until the readiness model has data (the local market's profile; Vast's
// 45 s / 90 s).
RaceOptions TuneRaceFor(RaceOptions options, const OpenedProvider& provider);

// One rental.
struct ProvisionRequest {
  OfferFilter filter;
  LaunchSpec launch;  // image, disk, env; the provisioner sets the label
  // The label is standby:<controller>:<purpose>:<tag>: the reaper finds leaks by it, and a
  // resumed failover finds its race's candidates by it.
  std::string purpose = "provision";
  std::string tag;                   // "" = random
  std::string failover_id;           // recorded with every candidate
  std::string instance_id;           // the protected instance the winner will serve ("" for none)
  std::string role = "provisioned";  // provider_instances.purpose: provisioned | primary | standby
  std::vector<std::string> avoid_machines;  // not in this race (the machine being replaced)
  std::string ssh_user = "root";            // when the provider does not say
  StopSignal* cancel = nullptr;             // as RaceOptions::cancel
  std::function<void(const std::string&)> on_launched;  // as RaceOptions::on_launched
  std::vector<HeadStartCandidate> head_start;           // as RaceOptions::head_start
};

// The SSH-ready distribution the races plan from, and the timings the next race uses.
struct ReadinessReport {
  size_t samples = 0;  // candidates recorded (ready and censored)
  size_t ready = 0;
  std::optional<double> p50_s;  // among machines that become ready (Kaplan–Meier)
  std::optional<double> p90_s;
  double never_ready_share = 0;  // the curve's plateau
  RaceTimings planned;           // hedge delay and round timeout of the next race
  bool from_history = false;     // false: the provider's defaults (not enough samples yet)
};

struct ProvisionOutcome {
  RaceResult race;  // without winner when no machine became ready
  std::string label;
  std::string ssh_user;  // the winner's
};

// Rents machines: the race (provision/race.h) plus everything that outlives one race. The
// readiness history and the machine blacklist are loaded from the state store once and every
// candidate is written back (provisioning_attempts, blacklist), so `metrics` and the next
// command see them. The winner's ownership is a provider_instances row written before
// Provision returns — retried, and if it still cannot be written the winner is destroyed
// and the provision fails: there is never a winner nobody owns (the reaper would destroy it).
// Thread-safe; several races may run at once.
class Provisioner {
 public:
  // Pointers are not owned and must outlive the provisioner.
  Provisioner(Provider* provider, ReadinessProbe* probe, StateStore* state, Clock* clock,
              Random* random, RaceOptions options, std::string controller);

  Result<ProvisionOutcome> Provision(const ProvisionRequest& request);
  // Launches up to `count` candidates the way a race's first batch would (best offers
  // first, blacklisted and avoided machines skipped), labelled <purpose>:<tag>, and returns
  // without waiting for them: a later race's head start (ProvisionRequest::head_start).
  // Nothing is recorded; the caller destroys the ones it does not hand to a race. An empty
  // result when no offer could be launched.
  Result<std::vector<HeadStartCandidate>> LaunchAhead(const ProvisionRequest& request, int count);

  // The label prefix of every instance this controller rents ("standby:<controller>:").
  std::string LabelPrefix() const;
  std::string LabelFor(const std::string& purpose, const std::string& tag) const;
  // The model the races plan from (the stored history, once loaded, plus every race since)
  // and the timings the next race will use: what `metrics` reports.
  ReadinessReport Readiness();
  // Keeps `machine_id` out of races for options().blacklist_for, here and (through the
  // state store) in every later command and controller.
  void Blacklist(const std::string& machine_id, const std::string& reason);
  const RaceOptions& options() const { return options_; }

 private:
  // Reads the history and the blacklist until a read succeeds (takes mu_ only to install).
  void LoadHistoryOnce();
  void RecordHistory(const ProvisionRequest& request, const std::string& label,
                     int64_t started_unix_ms, const RaceResult& race);
  Status RecordOwnership(const ProvisionRequest& request, const std::string& label,
                         const Instance& winner, int64_t ready_unix_ms);

  Provider* provider_;
  ReadinessProbe* probe_;
  StateStore* state_;
  Clock* clock_;
  Random* random_;
  RaceOptions options_;
  std::string controller_;
  std::mutex mu_;
  bool loaded_ = false;
  KaplanMeierModel model_;
  standby::Blacklist blacklist_;
};

// The Kaplan–Meier model of every recorded candidate of `provider` ("" = all): ready
// samples and censored ones (losers, timeouts), as the race itself records them.
void LoadReadinessModel(const std::vector<ProvisioningAttempt>& attempts,
                        const std::string& provider, KaplanMeierModel* model);

}  // namespace standby
