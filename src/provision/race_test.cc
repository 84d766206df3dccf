// The provisioning race on a FakeClock against the simulated market with scripted machines.
#include "provision/race.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <limits>
#include <mutex>

#include "provider/simulated_market.h"
#include "testing/test_util.h"

namespace standby {
namespace {

constexpr double kNever = std::numeric_limits<double>::infinity();

// Ready when the provider says running; probes count how often they ran.
class RunningIsReady : public ReadinessProbe {
 public:
  Status Probe(const Instance& instance) override {
    ++probes;
    if (on_probe) on_probe();
    if (refuse == instance.machine_id) return UnavailableError("ssh refused");
    return OkStatus();
  }
  void Forget(const Instance& instance) override {
    std::lock_guard<std::mutex> lock(mu);  // called from the race's destroy threads
    forgotten.push_back(instance.id);
  }
  std::mutex mu;
  std::atomic<int> probes{0};
  std::string refuse;
  std::function<void()> on_probe;
  std::vector<std::string> forgotten;
};

// A market of `n` identical-looking RTX 4090 offers whose machines are scripted in ranking
// order: machines()[0] is tried first.
class RaceTest : public ::testing::Test {
 protected:
  void Market(int n) {
    MarketProfile profile = VastLikeProfile();
    profile.gpus = {{"RTX 4090", 24, 0.40, 0.99, 900, n, "US"}};
    market_ = std::make_unique<SimulatedMarket>(profile, &clock_, 1);
    auto offers = market_->SearchOffers({});
    ASSERT_TRUE(offers.has_value());
    RankOffers(&*offers);
    for (const Offer& o : *offers) order_.push_back(o);
  }
  const std::string& machine(int i) { return order_[i].machine_id; }
  RaceOptions Options() {
    RaceOptions o;
    o.initial_batch = 2;
    o.poll_interval = std::chrono::milliseconds(1000);
    o.hedge_after_s = 30;
    o.round_timeout_s = 90;
    return o;
  }
  Result<RaceResult> Race(const RaceOptions& options) {
    LaunchSpec spec;
    spec.label = "standby:test:race";
    return RunRace(market_.get(), &probe_, &model_, &blacklist_, &clock_, {}, spec, options);
  }
  const CandidateOutcome* Outcome(const RaceResult& r, const std::string& machine_id) {
    for (const auto& c : r.candidates) {
      if (c.machine_id == machine_id) return &c;
    }
    return nullptr;
  }

  FakeClock clock_;
  std::unique_ptr<SimulatedMarket> market_;
  std::vector<Offer> order_;
  RunningIsReady probe_;
  KaplanMeierModel model_;
  Blacklist blacklist_;
};

TEST_F(RaceTest, TheFastestOfTheInitialBatchWinsAndTheOtherIsDestroyed) {
  Market(6);
  market_->Script(machine(0), 25);
  market_->Script(machine(1), 8);
  ASSERT_OK_AND_ASSIGN(auto r, Race(Options()));
  ASSERT_TRUE(r.winner.has_value());
  EXPECT_EQ(r.winner->machine_id, machine(1));
  EXPECT_NEAR(r.ready_after_s, 8, 1.01);  // noticed within one poll
  EXPECT_EQ(r.candidates.size(), 2u);     // no hedge before 30 s
  const CandidateOutcome* loser = Outcome(r, machine(0));
  ASSERT_NE(loser, nullptr);
  EXPECT_EQ(loser->outcome, RaceOutcome::kLost);
  EXPECT_TRUE(loser->destroy_confirmed);
  EXPECT_EQ(market_->LiveInstances(), 1u);  // only the winner is left
  EXPECT_EQ(r.rounds, 1);
  // Winner recorded as ready, loser as censored at its age.
  EXPECT_EQ(model_.Samples(), 2u);
  EXPECT_FALSE(blacklist_.Contains(machine(0), clock_.MonotonicNanos()));  // it did not fail
}

TEST_F(RaceTest, HedgesAtP50WhenNothingIsReady) {
  Market(6);
  market_->Script(machine(0), kNever);
  market_->Script(machine(1), kNever);
  market_->Script(machine(2), 5);
  ASSERT_OK_AND_ASSIGN(auto r, Race(Options()));
  ASSERT_TRUE(r.winner.has_value());
  EXPECT_EQ(r.winner->machine_id, machine(2));
  const CandidateOutcome* hedge = Outcome(r, machine(2));
  EXPECT_NEAR(hedge->launched_at_s, 30, 1.01);  // launched at p50, not before
  EXPECT_NEAR(r.elapsed_s, 35, 2.01);
  EXPECT_EQ(Outcome(r, machine(0))->outcome, RaceOutcome::kLost);
  EXPECT_EQ(Outcome(r, machine(1))->outcome, RaceOutcome::kLost);
  EXPECT_EQ(market_->LiveInstances(), 1u);
}

TEST_F(RaceTest, HedgingStopsAtMaxInFlight) {
  Market(10);
  for (int i = 0; i < 10; ++i) market_->Script(machine(i), kNever);
  RaceOptions o = Options();
  o.max_rounds = 1;
  ASSERT_OK_AND_ASSIGN(auto r, Race(o));
  EXPECT_FALSE(r.winner.has_value());
  EXPECT_EQ(r.candidates.size(), 4u);  // 2 + hedges at 30 s and 60 s, then the cap
  for (const auto& c : r.candidates) {
    EXPECT_EQ(c.outcome, RaceOutcome::kTimedOut);
    EXPECT_TRUE(c.destroy_confirmed);
    EXPECT_TRUE(blacklist_.Contains(c.machine_id, clock_.MonotonicNanos()));
  }
  EXPECT_EQ(market_->LiveInstances(), 0u);
}

TEST_F(RaceTest, TheRoundTimesOutAtTheModelsP90PlusTenSeconds) {
  Market(4);
  for (int i = 0; i < 4; ++i) market_->Script(machine(i), kNever);
  for (int i = 1; i <= 20; ++i) model_.Record(2.0 * i, true);  // p50 = 20 s, p90 = 36 s
  RaceOptions o = Options();
  o.hedge_after_s.reset();
  o.round_timeout_s.reset();
  o.hedge = false;
  o.max_rounds = 1;
  ASSERT_OK_AND_ASSIGN(auto r, Race(o));
  EXPECT_FALSE(r.winner.has_value());
  EXPECT_NEAR(r.elapsed_s, 46, 1.01);
  EXPECT_EQ(market_->LiveInstances(), 0u);
}

TEST_F(RaceTest, DefaultHedgingFollowsTheModelsP50) {
  Market(8);
  for (int i = 0; i < 8; ++i) market_->Script(machine(i), kNever);
  for (int i = 1; i <= 20; ++i) model_.Record(3.0 * i, true);  // p50 = 30 s, p90 = 54 s
  RaceOptions o;                                               // the defaults: 3, p50/3, 4
  o.poll_interval = std::chrono::milliseconds(1000);
  o.max_rounds = 1;
  ASSERT_OK_AND_ASSIGN(auto r, Race(o));
  ASSERT_EQ(r.candidates.size(), 4u);
  EXPECT_EQ(r.candidates[2].launched_at_s, 0);
  EXPECT_NEAR(r.candidates[3].launched_at_s, 10, 1.01);  // p50 / 3
  EXPECT_NEAR(r.elapsed_s, 64, 1.01);                    // p90 + 10 s
}

TEST_F(RaceTest, RoundsEndWhenOffersRunOut) {
  Market(3);
  for (int i = 0; i < 3; ++i) market_->Script(machine(i), kNever);
  ASSERT_OK_AND_ASSIGN(auto r, Race(Options()));
  EXPECT_FALSE(r.winner.has_value());
  EXPECT_EQ(r.rounds, 1);  // round 2 found no offer that was not tried or blacklisted
  EXPECT_EQ(r.candidates.size(), 3u);
  EXPECT_EQ(market_->LiveInstances(), 0u);
}

TEST_F(RaceTest, ExitedAndUnreachableCandidatesAreReplacedAndBlacklisted) {
  Market(6);
  market_->Script(machine(0), kNever, 4);  // exits 4 s into its boot
  market_->Script(machine(1), 3);          // running, but SSH refuses
  market_->Script(machine(2), 10);
  probe_.refuse = machine(1);
  ASSERT_OK_AND_ASSIGN(auto r, Race(Options()));
  ASSERT_TRUE(r.winner.has_value());
  EXPECT_EQ(r.winner->machine_id, machine(2));
  EXPECT_EQ(Outcome(r, machine(0))->outcome, RaceOutcome::kExited);
  EXPECT_EQ(Outcome(r, machine(1))->outcome, RaceOutcome::kProbeFailed);
  EXPECT_TRUE(blacklist_.Contains(machine(0), clock_.MonotonicNanos()));
  EXPECT_TRUE(blacklist_.Contains(machine(1), clock_.MonotonicNanos()));
  // The blacklist holds for an hour, by machine.
  clock_.Advance(std::chrono::minutes(61));
  EXPECT_FALSE(blacklist_.Contains(machine(0), clock_.MonotonicNanos()));
  EXPECT_EQ(market_->LiveInstances(), 1u);
}

TEST_F(RaceTest, StaleOffersAreSkipped) {
  Market(4);
  market_->MakeStale(order_[0].offer_id);
  market_->Script(machine(1), 6);
  market_->Script(machine(2), 7);
  ASSERT_OK_AND_ASSIGN(auto r, Race(Options()));
  ASSERT_TRUE(r.winner.has_value());
  EXPECT_EQ(Outcome(r, machine(0))->outcome, RaceOutcome::kStaleOffer);
  EXPECT_EQ(Outcome(r, machine(0))->alive_s, 0);
  EXPECT_EQ(r.winner->machine_id, machine(1));
}

// Ctrl-C while the second of a batch of three is being created: its create completes and
// nothing more is launched; both are destroyed and confirmed gone, and the result says the
// race was cancelled.
TEST_F(RaceTest, ACancelledRaceDestroysEveryCandidateItLaunched) {
  Market(6);
  StopSignal cancel;
  RaceOptions options = Options();
  options.initial_batch = 3;
  options.cancel = &cancel;
  std::vector<std::string> launched;
  options.on_launched = [&](const std::string& id) {
    launched.push_back(id);
    if (launched.size() == 2) cancel.Set();
  };
  ASSERT_OK_AND_ASSIGN(auto r, Race(options));
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(r.winner.has_value());
  ASSERT_EQ(r.candidates.size(), 2u);
  for (const CandidateOutcome& c : r.candidates) {
    EXPECT_EQ(c.outcome, RaceOutcome::kCancelled);
    EXPECT_TRUE(c.destroy_confirmed);
    EXPECT_FALSE(blacklist_.Contains(c.machine_id, clock_.MonotonicNanos()));
  }
  EXPECT_EQ(launched.size(), 2u);
  EXPECT_EQ(market_->LiveInstances(), 0u);
}

// A cancel that lands while the winner is being probed: the caller no longer wants it, so
// the winner is destroyed too, and what probing pinned is forgotten.
TEST_F(RaceTest, AWinnerFoundAsTheCancelLandsIsDestroyedToo) {
  Market(6);
  market_->Script(machine(0), 20);
  market_->Script(machine(1), 50);
  StopSignal cancel;
  RaceOptions options = Options();
  options.cancel = &cancel;
  probe_.on_probe = [&] { cancel.Set(); };
  ASSERT_OK_AND_ASSIGN(auto r, Race(options));
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(r.winner.has_value());
  const CandidateOutcome* found = Outcome(r, machine(0));
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->outcome, RaceOutcome::kCancelled);
  EXPECT_TRUE(found->destroy_confirmed);
  EXPECT_EQ(market_->LiveInstances(), 0u);
  EXPECT_NE(std::find(probe_.forgotten.begin(), probe_.forgotten.end(), found->instance_id),
            probe_.forgotten.end());
}

// Machines rented on suspicion before the race (another label) join its first round with
// the boot time they already have: the race launches only what the batch lacks, a head
// start can win, and losers of either kind are destroyed.
TEST_F(RaceTest, AHeadStartJoinsTheFirstRoundWithItsBootAlreadyUnderWay) {
  Market(6);
  market_->Script(machine(0), 20);  // rented 12 s before the race: ready 8 s into it
  market_->Script(machine(1), 15);
  market_->Script(machine(2), 30);
  LaunchSpec speculative;
  speculative.label = "standby:test:speculative:x";
  ASSERT_OK_AND_ASSIGN(Instance early, market_->Create(order_[0], speculative));
  RaceOptions options = Options();
  options.head_start = {{order_[0], early, clock_.MonotonicNanos()}};
  clock_.Advance(std::chrono::seconds(12));
  ASSERT_OK_AND_ASSIGN(auto r, Race(options));
  ASSERT_TRUE(r.winner.has_value());
  EXPECT_EQ(r.winner->id, early.id);
  EXPECT_NEAR(r.elapsed_s, 8, 1.01);       // 20 s of boot, 12 of them before the race
  EXPECT_NEAR(r.ready_after_s, 20, 1.01);  // the model learns the whole boot
  ASSERT_EQ(r.candidates.size(), 2u);      // the head start + one launched to fill the batch
  EXPECT_LT(r.candidates[0].launched_at_s, 0);
  EXPECT_EQ(r.candidates[1].machine_id, machine(1));  // the head start's offer is not reused
  EXPECT_EQ(r.candidates[1].outcome, RaceOutcome::kLost);
  EXPECT_EQ(market_->LiveInstances(), 1u);

  // An offer search that fails does not strand a head start: it is raced alone.
  class SearchFails : public Provider {
   public:
    explicit SearchFails(Provider* p) : p_(p) {}
    std::string Name() const override { return p_->Name(); }
    Result<std::vector<Offer>> SearchOffers(const OfferFilter&) override {
      return UnavailableError("search offers: HTTP 503");
    }
    Result<Instance> Create(const Offer& o, const LaunchSpec& s) override {
      return p_->Create(o, s);
    }
    Result<Instance> Get(const std::string& id) override { return p_->Get(id); }
    Result<std::vector<Instance>> List(const std::string& l) override { return p_->List(l); }
    Status Destroy(const std::string& id) override { return p_->Destroy(id); }

   private:
    Provider* p_;
  } failing(market_.get());
  ASSERT_OK(market_->Destroy(early.id));
  ASSERT_OK_AND_ASSIGN(Instance second, market_->Create(order_[2], speculative));
  options.head_start = {{order_[2], second, clock_.MonotonicNanos()}};
  LaunchSpec spec;
  spec.label = "standby:test:race";
  ASSERT_OK_AND_ASSIGN(
      auto alone, RunRace(&failing, &probe_, &model_, &blacklist_, &clock_, {}, spec, options));
  ASSERT_TRUE(alone.winner.has_value());
  EXPECT_EQ(alone.winner->id, second.id);
  EXPECT_EQ(alone.candidates.size(), 1u);
  // Without a head start the same failure is the race's error, as before.
  options.head_start.clear();
  EXPECT_FALSE(RunRace(&failing, &probe_, &model_, &blacklist_, &clock_, {}, spec, options));

  // A race cancelled before its first round still retires its head start.
  ASSERT_OK(market_->Destroy(second.id));
  ASSERT_OK_AND_ASSIGN(Instance third, market_->Create(order_[4], speculative));
  StopSignal cancel;
  cancel.Set();
  options.cancel = &cancel;
  options.head_start = {{order_[4], third, clock_.MonotonicNanos()}};
  ASSERT_OK_AND_ASSIGN(auto cancelled, Race(options));
  EXPECT_TRUE(cancelled.cancelled);
  ASSERT_EQ(cancelled.candidates.size(), 1u);
  EXPECT_EQ(cancelled.candidates[0].outcome, RaceOutcome::kCancelled);
  EXPECT_TRUE(cancelled.candidates[0].destroy_confirmed);
  EXPECT_EQ(market_->LiveInstances(), 0u);
}

TEST_F(RaceTest, ALabelIsRequired) {
  Market(2);
  auto r =
      RunRace(market_.get(), &probe_, &model_, &blacklist_, &clock_, {}, LaunchSpec{}, Options());
  EXPECT_FALSE(r.has_value());
}

}  // namespace
}  // namespace standby
