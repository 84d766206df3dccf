#include "provision/readiness_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace standby {
namespace {

TEST(KaplanMeierTest, WithoutCensoringItIsTheEmpiricalDistribution) {
  KaplanMeierModel model;
  for (double t : {10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0}) {
    model.Record(t, true);
  }
  EXPECT_DOUBLE_EQ(model.Survival(5), 1.0);
  EXPECT_DOUBLE_EQ(model.Survival(30), 0.7);
  EXPECT_DOUBLE_EQ(model.NeverReadyShare(), 0.0);
  EXPECT_EQ(model.Quantile(0.5), 50.0);
  EXPECT_EQ(model.Quantile(0.9), 90.0);
}

TEST(KaplanMeierTest, CensoredSamplesLeaveTheRiskSetWithoutCountingAsReady) {
  // Classic example: ready at 1, 3, 4; censored at 2 (a loser destroyed at 2 s).
  KaplanMeierModel model;
  model.Record(1, true);
  model.Record(2, false);
  model.Record(3, true);
  model.Record(4, true);
  EXPECT_DOUBLE_EQ(model.Survival(1), 0.75);
  EXPECT_DOUBLE_EQ(model.Survival(3), 0.75 * (1 - 1.0 / 2));  // 2 at risk at t=3
  EXPECT_DOUBLE_EQ(model.Survival(4), 0.0);
  // Treating the censored loser as "ready at 2" would have made the median 2, not 3.
  EXPECT_EQ(model.Quantile(0.5), 3.0);
}

TEST(KaplanMeierTest, MachinesThatNeverBootAreAPlateauNotASlowTail) {
  // 80 machines ready uniformly over 1..80 s, 20 never ready (censored at the 90 s timeout).
  KaplanMeierModel model;
  for (int i = 1; i <= 80; ++i) model.Record(i, true);
  for (int i = 0; i < 20; ++i) model.Record(90, false);
  EXPECT_NEAR(model.NeverReadyShare(), 0.2, 1e-9);
  // Among machines that boot: p50 = 40 s, p90 = 72 s.
  EXPECT_EQ(model.Quantile(0.5), 40.0);
  EXPECT_EQ(model.Quantile(0.9), 72.0);
  RaceTimings timings = TimingsFrom(model);
  EXPECT_EQ(timings.hedge_after_s, 40.0);
  EXPECT_EQ(timings.round_timeout_s, 82.0);  // p90 + 10 s
}

TEST(KaplanMeierTest, DefaultsUntilTwentySamples) {
  KaplanMeierModel model;
  for (int i = 0; i < 19; ++i) model.Record(5, true);
  RaceTimings timings = TimingsFrom(model);
  EXPECT_EQ(timings.hedge_after_s, 45.0);
  EXPECT_EQ(timings.round_timeout_s, 90.0);  // the seed's 90 s until there is data
  model.Record(5, true);
  EXPECT_EQ(TimingsFrom(model).round_timeout_s, 15.0);
  KaplanMeierModel empty;
  EXPECT_FALSE(empty.Quantile(0.5).has_value());
}

TEST(KaplanMeierTest, RecoversALognormalWithHeavyCensoring) {
  // Boot times lognormal(median 45, p90 90); each sample is censored at a random race
  // length, as losers are. The estimate must stay near the truth, where dropping censored
  // samples would be biased fast.
  std::mt19937_64 rng(7);
  double mu = std::log(45.0), sigma = (std::log(90.0) - mu) / 1.2815515655446004;
  std::lognormal_distribution<double> boot(mu, sigma);
  std::uniform_real_distribution<double> stop(20, 200);
  KaplanMeierModel model;
  for (int i = 0; i < 20000; ++i) {
    double t = boot(rng), c = stop(rng);
    model.Record(std::min(t, c), t <= c);
  }
  EXPECT_NEAR(*model.Quantile(0.5), 45.0, 2.5);
  EXPECT_NEAR(model.Survival(90), 0.1, 0.02);
}

}  // namespace
}  // namespace standby
