// The health policy on observations alone: no false failovers (blips, API outages, an
// isolated controller, a service that answers users), and real deaths found fast.
#include "failover/health_policy.h"

#include <gtest/gtest.h>

namespace standby {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

class HealthPolicyTest : public ::testing::Test {
 protected:
  HealthPolicyTest() : policy_(Policy(), true, true) {}
  static FailoverPolicy Policy() {
    FailoverPolicy p;
    p.dead_after = 3;
    p.max_restarts = 2;
    p.restart_window = std::chrono::minutes(10);
    p.health_timeout = std::chrono::seconds(60);
    return p;
  }
  // One probe round `t` seconds into the test.
  Observation At(double t) {
    Observation o;
    o.mono_ns = static_cast<int64_t>(t * kSecond);
    o.at_ms = 1'700'000'000'000 + static_cast<int64_t>(t * 1000);
    o.provider = ProviderView::kRunning;
    return o;
  }
  Observation Healthy(double t) {
    Observation o = At(t);
    o.agent_ok = true;
    o.workload_alive = true;
    o.workload_healthy = true;
    return o;
  }
  Observation Failed(double t, ProviderView provider = ProviderView::kRunning) {
    Observation o = At(t);
    o.agent_ok = false;
    o.agent_error = "connection refused";
    o.provider = provider;
    return o;
  }
  HealthPolicy policy_;
};

TEST_F(HealthPolicyTest, ABlipShorterThanDeadAfterIsNeverAFailoverAndSuccessResets) {
  for (int round = 0; round < 50; ++round) {
    double t = round * 10.0;
    EXPECT_EQ(policy_.Decide(Failed(t)).verdict, Verdict::kSuspect);
    EXPECT_EQ(policy_.Decide(Failed(t + 2)).verdict, Verdict::kSuspect);
    EXPECT_EQ(policy_.Decide(Healthy(t + 4)).verdict, Verdict::kHealthy);
    EXPECT_EQ(policy_.consecutive_failures(), 0);
    EXPECT_EQ(policy_.first_failure_at_ms(), 0);
  }
}

TEST_F(HealthPolicyTest, DeadAfterFailuresInARowWhileTheProviderAnswersIsAFailover) {
  EXPECT_EQ(policy_.Decide(Healthy(0)).verdict, Verdict::kHealthy);
  EXPECT_EQ(policy_.Decide(Failed(2)).verdict, Verdict::kSuspect);
  EXPECT_EQ(policy_.Decide(Failed(4)).verdict, Verdict::kSuspect);
  Decision d = policy_.Decide(Failed(6.1));
  EXPECT_EQ(d.verdict, Verdict::kFailOver);
  EXPECT_EQ(d.trigger, Trigger::kHostDead);
  EXPECT_NE(d.reason.find("3 failed probes in 4.1 s (connection refused)"), std::string::npos)
      << d.reason;
  EXPECT_EQ(policy_.first_failure_at_ms(), At(2).at_ms);  // MTTR starts at the first failure
}

// Providers lie (a live machine listed offline for a round): "gone" shortens detection only
// when two listings in a row say it and two probes in a row fail.
TEST_F(HealthPolicyTest, TheProviderSayingGoneShortensDetectionOnlyTwiceInARowWithTwoFailures) {
  Observation gone_but_answering = Healthy(0);
  gone_but_answering.provider = ProviderView::kGone;
  EXPECT_EQ(policy_.Decide(gone_but_answering).verdict, Verdict::kHealthy);
  Observation first = Failed(2, ProviderView::kGone);
  first.provider_detail = "offline";
  EXPECT_EQ(policy_.Decide(first).verdict, Verdict::kSuspect) << "one failure and one lie";
  Observation o = Failed(4, ProviderView::kGone);
  o.provider_detail = "offline";
  Decision d = policy_.Decide(o);
  EXPECT_EQ(d.verdict, Verdict::kFailOver);
  EXPECT_NE(d.reason.find("provider says offline"), std::string::npos) << d.reason;
  // A lie between two failures does not count twice: a blip with one offline listing.
  policy_.Reset();
  EXPECT_EQ(policy_.Decide(Failed(10, ProviderView::kGone)).verdict, Verdict::kSuspect);
  EXPECT_EQ(policy_.Decide(Failed(12, ProviderView::kRunning)).verdict, Verdict::kSuspect);
  EXPECT_EQ(policy_.Decide(Healthy(14)).verdict, Verdict::kHealthy);
}

TEST_F(HealthPolicyTest, AProviderApiOutageAloneIsNeverAFailover) {
  for (int i = 0; i < 100; ++i) {
    Observation o = Healthy(i * 2.0);
    o.provider = ProviderView::kUnknown;
    EXPECT_EQ(policy_.Decide(o).verdict, Verdict::kHealthy);
  }
}

TEST_F(HealthPolicyTest, AControllerThatReachesNothingIsIsolatedNotAFailover) {
  for (int i = 0; i < 20; ++i) {
    Observation o = Failed(i * 2.0, ProviderView::kUnknown);
    o.store_reachable = false;
    Decision d = policy_.Decide(o);
    EXPECT_NE(d.verdict, Verdict::kFailOver) << i;
    if (i >= 2) {
      EXPECT_EQ(d.verdict, Verdict::kIsolated);
    }
  }
}

TEST_F(HealthPolicyTest, RoundsInIsolationAreNotCountedAgainstTheHost) {
  for (int i = 0; i < 10; ++i) {
    Observation o = Failed(i * 2.0, ProviderView::kUnknown);
    o.store_reachable = false;
    EXPECT_EQ(policy_.Decide(o).verdict, Verdict::kIsolated);
  }
  // Connectivity is back and one probe fails (a stale session): only the first failure.
  EXPECT_EQ(policy_.Decide(Failed(22)).verdict, Verdict::kSuspect);
  EXPECT_EQ(policy_.consecutive_failures(), 1);
  EXPECT_EQ(policy_.first_failure_at_ms(), At(22).at_ms);
}

TEST_F(HealthPolicyTest, WithTheApiDownTheStoreAnsweringIsEnoughEvidence) {
  for (int i = 0; i < 2; ++i) {
    Observation o = Failed(i * 2.0, ProviderView::kUnknown);
    o.store_reachable = true;
    EXPECT_EQ(policy_.Decide(o).verdict, Verdict::kSuspect);
  }
  Observation o = Failed(4, ProviderView::kUnknown);
  o.store_reachable = true;
  EXPECT_EQ(policy_.Decide(o).verdict, Verdict::kFailOver);
}

TEST_F(HealthPolicyTest, AServiceThatAnswersUsersDirectlyIsNotDead) {
  for (int i = 0; i < 30; ++i) {
    Observation o = Failed(i * 2.0);
    o.direct_health = true;
    EXPECT_EQ(policy_.Decide(o).verdict, Verdict::kSuspect);
  }
  Observation o = Failed(100);
  o.direct_health = false;
  EXPECT_EQ(policy_.Decide(o).verdict, Verdict::kFailOver);  // the direct path failed too
}

TEST_F(HealthPolicyTest, ADeadWorkloadIsRestartedInPlaceThenFailedOver) {
  Observation dead = Healthy(0);
  dead.workload_alive = false;
  EXPECT_EQ(policy_.Decide(dead).verdict, Verdict::kRestartWorkload);
  policy_.WorkloadStarted(dead.mono_ns, true);
  dead = Healthy(10);
  dead.workload_alive = false;
  EXPECT_EQ(policy_.Decide(dead).verdict, Verdict::kRestartWorkload);
  policy_.WorkloadStarted(dead.mono_ns, true);
  dead = Healthy(20);
  dead.workload_alive = false;
  Decision d = policy_.Decide(dead);
  EXPECT_EQ(d.verdict, Verdict::kFailOver);
  EXPECT_EQ(d.trigger, Trigger::kWorkloadUnhealthy);
  // Restarts older than the window no longer count.
  dead = Healthy(20 + 11 * 60);
  dead.workload_alive = false;
  EXPECT_EQ(policy_.Decide(dead).verdict, Verdict::kRestartWorkload);
}

TEST_F(HealthPolicyTest, AStartingWorkloadHasItsHealthTimeoutThenFailingChecksCount) {
  policy_.WorkloadStarted(0, false);
  Observation loading = Healthy(1);
  loading.workload_healthy = false;
  loading.workload_detail = "connection refused";
  EXPECT_EQ(policy_.Decide(loading).verdict, Verdict::kStarting);
  loading.mono_ns = 59 * kSecond;
  EXPECT_EQ(policy_.Decide(loading).verdict, Verdict::kStarting);
  for (int i = 0; i < 2; ++i) {
    loading.mono_ns = (61 + i) * kSecond;
    EXPECT_EQ(policy_.Decide(loading).verdict, Verdict::kSuspect);
  }
  loading.mono_ns = 63 * kSecond;
  EXPECT_EQ(policy_.Decide(loading).verdict, Verdict::kRestartWorkload);
}

TEST_F(HealthPolicyTest, ResetAfterAFailoverStartsCountingAgain) {
  policy_.Decide(Failed(0));
  policy_.Decide(Failed(2));
  policy_.Reset();
  EXPECT_EQ(policy_.Decide(Failed(4)).verdict, Verdict::kSuspect);
  EXPECT_EQ(policy_.consecutive_failures(), 1);
}

TEST_F(HealthPolicyTest, WithoutAWorkloadAnAnsweringHostIsHealthy) {
  HealthPolicy bare(Policy(), false, false);
  Observation o = Healthy(0);
  o.workload_alive = false;
  EXPECT_EQ(bare.Decide(o).verdict, Verdict::kHealthy);
}

}  // namespace
}  // namespace standby
