#include "state/metrics.h"

#include <gtest/gtest.h>

namespace standby {
namespace {

TEST(MetricsTest, NearestRankPercentiles) {
  Distribution d = Summarize({10, 20, 30, 40, 50, 60, 70, 80, 90, 100});
  EXPECT_EQ(d.count, 10u);
  EXPECT_DOUBLE_EQ(d.mean, 55);
  EXPECT_DOUBLE_EQ(d.p50, 50);
  EXPECT_DOUBLE_EQ(d.p90, 90);
  EXPECT_EQ(Summarize({}).count, 0u);
}

TEST(MetricsTest, SnapshotAges) {
  ProtectedInstance a, b;
  a.instance_id = "a";
  a.last_snapshot_at = 1000;
  b.instance_id = "b";
  auto ages = SnapshotAges({a, b}, 61000);
  EXPECT_EQ(ages[0].age_ms, 60000);
  EXPECT_EQ(ages[1].age_ms, -1);
}

}  // namespace
}  // namespace standby
