#include "env/clock.h"

#include <gtest/gtest.h>

namespace standby {
namespace {

TEST(FakeClockTest, MovesOnlyWhenTold) {
  FakeClock clock(1000);
  EXPECT_EQ(clock.Now(), 1000);
  int64_t start = clock.MonotonicNanos();
  clock.Advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(ElapsedMillis(&clock, start), 1500);
  clock.SleepFor(std::chrono::seconds(2));
  EXPECT_EQ(clock.Now(), 1000 + 3'500'000'000);
}

TEST(RealClockTest, MonotonicNeverGoesBack) {
  Clock* clock = Clock::Real();
  int64_t a = clock->MonotonicNanos();
  int64_t b = clock->MonotonicNanos();
  EXPECT_LE(a, b);
  EXPECT_GT(clock->Now(), 1'600'000'000'000'000'000);
}

}  // namespace
}  // namespace standby
