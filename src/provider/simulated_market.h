#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "env/clock.h"
#include "provider/market_profile.h"
#include "provider/provider.h"

namespace standby {

// The market of a profile, in memory and on a Clock: offers, and instances whose state
// follows their drawn fate (ready after a lognormal boot time, never ready, or exited during
// boot). No hosts are made: the race tests and the Monte Carlo benchmark use it with a
// FakeClock; the local market provider adds real hosts on top. Thread-safe.
class SimulatedMarket : public Provider {
 public:
  SimulatedMarket(MarketProfile profile, Clock* clock, uint64_t seed);

  std::string Name() const override { return "simulated:" + profile_.name; }
  Result<std::vector<Offer>> SearchOffers(const OfferFilter& filter) override;
  Result<Instance> Create(const Offer& offer, const LaunchSpec& spec) override;
  Result<Instance> Get(const std::string& id) override;
  Result<std::vector<Instance>> List(const std::string& label_prefix) override;
  Status Destroy(const std::string& id) override;

  // A machine's fate drawn from the profile: seconds to ready (infinity = never), and
  // seconds to exiting during boot (-1 = does not).
  struct Fate {
    double ready_after_s;
    double exits_after_s;
  };
  Fate DrawFate();
  // Fates drawn from here on use `seed`: a market whose offers must be the same in every
  // process (the local market) is built with a fixed seed, then reseeded for its fates.
  void ReseedFates(uint64_t seed);

  // Test scripting: the fate of the next instance on `machine_id` (seconds to ready;
  // infinity = never; exits_after_s >= 0 = exits then), instead of a random draw.
  void Script(const std::string& machine_id, double ready_after_s, double exits_after_s = -1);
  // The offer stays in search results but Create refuses it, as a stale Vast offer.
  void MakeStale(const std::string& offer_id);
  // Chaos: the machine dies now; it reads "offline" after the profile's offline lag.
  Status Kill(const std::string& id);
  // Seconds each instance existed (created → destroyed, or → now while alive): what was
  // paid, by instance id.
  std::map<std::string, double> BilledSeconds() const;
  // Seconds each instance spent running (ready → destroyed, or → now): what Vast bills for
  // the GPU, which it does not charge while an instance is loading.
  std::map<std::string, double> RunningSeconds() const;
  size_t LiveInstances() const;
  // The boot time drawn for an instance (seconds; infinity when it never becomes ready).
  double BootSecondsOf(const std::string& id) const;

 private:
  struct Machine {
    Offer offer;
    bool rented = false;
    bool stale = false;
    std::optional<std::pair<double, double>> scripted;  // ready_after_s, exits_after_s
  };
  struct Sim {
    Instance instance;
    int64_t created_ns = 0;
    int64_t destroyed_ns = -1;
    double ready_after_s = 0;   // infinity: never
    double exits_after_s = -1;  // >= 0: goes "exited" then
    int64_t killed_ns = -1;
  };
  Fate DrawFateLocked();
  InstanceState StateOf(const Sim& sim, int64_t now) const;
  Instance Snapshot(const Sim& sim, int64_t now) const;

  MarketProfile profile_;
  Clock* clock_;
  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  std::map<std::string, Machine> machines_;  // by offer id
  std::map<std::string, Sim> instances_;     // by instance id, destroyed ones kept
  int64_t next_instance_ = 1000;
};

}  // namespace standby
