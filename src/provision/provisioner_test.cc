// The provisioner on the simulated market with a real SQLite state store: history and
// ownership go to the store, a failed ownership write never leaves an unowned winner, and
// the timings `metrics` reports are the ones the race uses.
#include "provision/provisioner.h"

#include <gtest/gtest.h>

#include "provider/simulated_market.h"
#include "provision/ownership.h"
#include "state/forwarding_state_store.h"
#include "state/open_state_store.h"
#include "testing/test_util.h"

namespace standby {
namespace {

class AlwaysReady : public ReadinessProbe {
 public:
  Status Probe(const Instance&) override { return OkStatus(); }
};

// The database refuses ownership rows, as a PostgreSQL that went away would.
class OwnershipRefused : public ForwardingStateStore {
 public:
  using ForwardingStateStore::ForwardingStateStore;
  Status RecordProviderInstance(const ProviderInstanceRow&) override {
    ++refused;
    return UnavailableError("connection to the database lost");
  }
  int refused = 0;
};

class ProvisionerTest : public ::testing::Test {
 protected:
  ProvisionerTest() : random_(7) {
    MarketProfile profile = VastLikeProfile();
    profile.never_ready_share = 0;
    profile.exit_during_boot_share = 0;
    market_ = std::make_unique<SimulatedMarket>(profile, &clock_, 3);
  }
  std::unique_ptr<StateStore> OpenDb() {
    auto db = OpenStateStore("", dir_.path());
    EXPECT_TRUE(db.has_value());
    return std::move(*db);
  }
  RaceOptions Options() {
    RaceOptions o;
    o.poll_interval = std::chrono::milliseconds(1000);
    return o;
  }
  TempDir dir_;
  FakeClock clock_;
  SeededRandom random_;
  AlwaysReady probe_;
  std::unique_ptr<SimulatedMarket> market_;
};

TEST_F(ProvisionerTest, TheWinnerIsOwnedInTheStoreAndEveryCandidateIsHistory) {
  auto db = OpenDb();
  Provisioner provisioner(market_.get(), &probe_, db.get(), &clock_, &random_, Options(), "ctl");
  ProvisionRequest request;
  request.instance_id = "llm-1";
  request.role = "primary";
  request.failover_id = "f-1";
  ASSERT_OK_AND_ASSIGN(ProvisionOutcome out, provisioner.Provision(request));
  ASSERT_TRUE(out.race.winner.has_value());
  EXPECT_TRUE(out.label.starts_with("standby:ctl:provision:"));
  ASSERT_OK_AND_ASSIGN(auto owned, OwnedInstances(db.get(), market_->Name()));
  EXPECT_EQ(owned, std::set<std::string>{out.race.winner->id});
  ASSERT_OK_AND_ASSIGN(auto rows, db->ListProviderInstances());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].instance_id, "llm-1");
  EXPECT_EQ(rows[0].purpose, "primary");
  EXPECT_EQ(rows[0].controller, "ctl");
  ASSERT_OK_AND_ASSIGN(auto attempts, db->ListProvisioningAttempts(market_->Name()));
  EXPECT_EQ(attempts.size(), out.race.candidates.size());
  for (const ProvisioningAttempt& a : attempts) {
    EXPECT_EQ(a.failover_id, "f-1");
    EXPECT_TRUE(ParseRaceOutcome(a.outcome).has_value()) << a.outcome;
  }
  EXPECT_EQ(market_->LiveInstances(), 1u);
}

TEST_F(ProvisionerTest, AnOwnershipWriteThatFailsDestroysTheWinnerAndFailsTheProvision) {
  OwnershipRefused db(OpenDb());
  Provisioner provisioner(market_.get(), &probe_, &db, &clock_, &random_, Options(), "ctl");
  auto out = provisioner.Provision({});
  ASSERT_FALSE(out.has_value());
  EXPECT_NE(out.error().message.find("could not record its ownership"), std::string::npos)
      << out.error().message;
  EXPECT_NE(out.error().message.find("destroyed"), std::string::npos);
  EXPECT_GE(db.refused, 2) << "the write is retried before giving up";
  EXPECT_EQ(market_->LiveInstances(), 0u) << "an unowned winner was left rented";
}

TEST_F(ProvisionerTest, ReapNeverDestroysAnOwnedInstance) {
  auto db = OpenDb();
  Provisioner provisioner(market_.get(), &probe_, db.get(), &clock_, &random_, Options(), "ctl");
  ASSERT_OK_AND_ASSIGN(ProvisionOutcome out, provisioner.Provision({}));
  ASSERT_TRUE(out.race.winner.has_value());
  clock_.Advance(std::chrono::hours(1));
  ASSERT_OK_AND_ASSIGN(ReapResult reaped,
                       ReapUnowned(market_.get(), db.get(), provisioner.LabelPrefix(),
                                   std::chrono::seconds(0), &clock_));
  EXPECT_TRUE(reaped.destroyed.empty());
  EXPECT_EQ(market_->LiveInstances(), 1u);
  ASSERT_OK_AND_ASSIGN(DestroyOutcome destroyed,
                       DestroyInstance(market_.get(), db.get(), out.race.winner->id, &clock_));
  EXPECT_EQ(destroyed, DestroyOutcome::kDestroyed);
  ASSERT_OK_AND_ASSIGN(auto owned, OwnedInstances(db.get(), market_->Name()));
  EXPECT_TRUE(owned.empty());
  ASSERT_OK_AND_ASSIGN(DestroyOutcome again,
                       DestroyInstance(market_.get(), db.get(), out.race.winner->id, &clock_));
  EXPECT_EQ(again, DestroyOutcome::kAlreadyGone);
}

// docs/design.md: the reaper never destroys a machine of a live race (its failover's claim
// is unexpired), and reaps one whose failover's process died at once, whatever the grace.
TEST_F(ProvisionerTest, ReapNeverTakesALiveRaceAndTakesADeadOneAtOnce) {
  auto db = OpenDb();
  Provisioner provisioner(market_.get(), &probe_, db.get(), &clock_, &random_, Options(), "ctl");
  FailoverEvent racing;
  racing.failover_id = "fo-live";
  racing.instance_id = "gpu-1";
  racing.trigger = "host_dead";
  racing.phase = "replacing";
  racing.started_at = NowMillis(&clock_);
  ASSERT_OK(db->RecordFailoverEvent(racing));
  ASSERT_OK_AND_ASSIGN(bool claimed, db->ClaimFailover("fo-live", "p1", NowMillis(&clock_),
                                                       NowMillis(&clock_) + 60'000));
  ASSERT_TRUE(claimed);
  ASSERT_OK_AND_ASSIGN(auto offers, market_->SearchOffers({}));
  ASSERT_FALSE(offers.empty());
  LaunchSpec spec;
  spec.label = provisioner.LabelFor("failover", "fo-live-1xab12");
  ASSERT_OK_AND_ASSIGN(Instance candidate, market_->Create(offers[0], spec));
  clock_.Advance(std::chrono::seconds(30));  // the claim still holds
  ASSERT_OK_AND_ASSIGN(ReapResult live,
                       ReapUnowned(market_.get(), db.get(), provisioner.LabelPrefix(),
                                   std::chrono::seconds(0), &clock_));
  EXPECT_TRUE(live.destroyed.empty()) << "a live race's candidate was reaped";
  EXPECT_EQ(market_->LiveInstances(), 1u);
  clock_.Advance(std::chrono::seconds(60));  // its process died: the claim expired
  ASSERT_OK_AND_ASSIGN(ReapResult dead,
                       ReapUnowned(market_.get(), db.get(), provisioner.LabelPrefix(),
                                   std::chrono::hours(24), &clock_));
  EXPECT_EQ(dead.destroyed, std::vector<std::string>{candidate.id});
  EXPECT_EQ(market_->LiveInstances(), 0u);
}

TEST_F(ProvisionerTest, MetricsAndTheRaceUseTheSameTimingsForTheSameHistory) {
  auto db = OpenDb();
  // A history with censored samples (losers, timeouts) that a naive count would misread.
  for (int i = 0; i < 30; ++i) {
    ProvisioningAttempt a;
    a.attempt_id = "h" + std::to_string(i);
    a.provider = market_->Name();
    if (i % 3 == 2) {
      a.censored_ms = 20'000 + i * 100;
      a.outcome = "lost";
    } else {
      a.ready_ms = 30'000 + i * 1000;
      a.outcome = "won";
    }
    ASSERT_OK(db->RecordProvisioningAttempt(a));
  }
  RaceOptions options = Options();
  Provisioner provisioner(market_.get(), &probe_, db.get(), &clock_, &random_, options, "ctl");
  // What `standby metrics` reports (Fleet::Readiness is the provisioner's).
  ReadinessReport reported = provisioner.Readiness();
  EXPECT_TRUE(reported.from_history);
  EXPECT_EQ(reported.samples, 30u);
  EXPECT_EQ(reported.ready, 20u);
  // The Kaplan–Meier estimate from the rows alone, censoring included: not a count of
  // "ready" rows, which would put p90 elsewhere.
  KaplanMeierModel from_rows;
  ASSERT_OK_AND_ASSIGN(auto attempts, db->ListProvisioningAttempts(""));
  LoadReadinessModel(attempts, market_->Name(), &from_rows);
  EXPECT_EQ(reported.planned.round_timeout_s, *from_rows.Quantile(0.9) + 10);
  EXPECT_EQ(reported.p90_s, from_rows.Quantile(0.9));
  // The race plans with exactly those timings.
  ASSERT_OK_AND_ASSIGN(ProvisionOutcome out, provisioner.Provision({}));
  EXPECT_EQ(out.race.round_timeout_s, reported.planned.round_timeout_s);
  EXPECT_EQ(out.race.hedge_after_s, reported.planned.hedge_after_s);
}

}  // namespace
}  // namespace standby
