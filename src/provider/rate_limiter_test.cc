#include "provider/rate_limiter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <vector>

namespace standby {
namespace {

TEST(RateLimiterTest, SpacesRequestsByTheMinimumInterval) {
  FakeClock clock;
  RateLimiter limiter(&clock, RateLimitOptions{});
  int64_t start = clock.MonotonicNanos();
  for (int i = 0; i < 5; ++i) limiter.AwaitTurn();
  EXPECT_EQ(clock.MonotonicNanos() - start, 4 * 200'000'000LL);  // the first goes at once
}

TEST(RateLimiterTest, BacksOffExponentiallyWithJitterUpToTheCapAndCountsEvery429) {
  FakeClock clock;
  RateLimitOptions options;
  options.jitter = 0.2;
  RateLimiter limiter(&clock, options);
  std::vector<int64_t> pauses;
  for (int i = 0; i < 8; ++i) pauses.push_back(limiter.OnRateLimited().count());
  double expected = 1000;
  for (int64_t pause : pauses) {
    double base = std::min(expected, 30000.0);
    EXPECT_GE(pause, base * 0.8 - 1);
    EXPECT_LE(pause, std::min(base * 1.2, 30000.0) + 1);
    expected *= 2;
  }
  EXPECT_EQ(limiter.hits(), 8);
  limiter.OnRateLimited(false);  // a 5xx backs off but is no 429
  EXPECT_EQ(limiter.hits(), 8);
  // A success resets the exponent.
  limiter.OnSuccess();
  EXPECT_LE(limiter.OnRateLimited().count(), 1200);
}

TEST(RateLimiterTest, A429PausesEveryCaller) {
  FakeClock clock;
  RateLimiter limiter(&clock, RateLimitOptions{});
  limiter.AwaitTurn();
  auto pause = limiter.OnRateLimited();
  int64_t before = clock.MonotonicNanos();
  limiter.AwaitTurn();
  EXPECT_GE(clock.MonotonicNanos() - before, std::chrono::nanoseconds(pause).count() - 1);
}

TEST(RateLimiterTest, ThreadsShareOneSpacing) {
  RateLimitOptions options;
  options.min_spacing = std::chrono::milliseconds(20);
  RateLimiter limiter(Clock::Real(), options);
  std::mutex mu;
  std::vector<int64_t> turns;
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 4; ++i) {
        int64_t turn = limiter.AwaitTurn();
        int64_t woke = Clock::Real()->MonotonicNanos();
        std::lock_guard<std::mutex> lock(mu);
        turns.push_back(turn);
        EXPECT_GE(woke, turn);  // nobody sends before its turn
      }
    });
  }
  for (auto& t : threads) t.join();
  std::sort(turns.begin(), turns.end());
  ASSERT_EQ(turns.size(), 12u);
  for (size_t i = 1; i < turns.size(); ++i) EXPECT_GE(turns[i] - turns[i - 1], 20'000'000) << i;
}

TEST(RateLimiterTest, OneLimiterPerAccount) {
  auto a = SharedRateLimiter("vast:key-a", Clock::Real(), {});
  auto b = SharedRateLimiter("vast:key-a", Clock::Real(), {});
  auto c = SharedRateLimiter("vast:key-b", Clock::Real(), {});
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(a.get(), c.get());
}

}  // namespace
}  // namespace standby
