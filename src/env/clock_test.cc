#include "env/clock.h"

#include <gtest/gtest.h>

#include <barrier>
#include <functional>
#include <thread>
#include <vector>

namespace standby {
namespace {

// Polls `done` for up to 10 s of real time (a bound for waits on other threads).
bool RealWait(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(FakeClockTest, MovesOnlyWhenTold) {
  FakeClock clock(1000);
  EXPECT_EQ(clock.Now(), 1000);
  int64_t start = clock.MonotonicNanos();
  clock.Advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(ElapsedMillis(&clock, start), 1500);
  clock.SleepFor(std::chrono::seconds(2));
  EXPECT_EQ(clock.Now(), 1000 + 3'500'000'000);
  EXPECT_EQ(NowMillis(&clock), 3500);
}

TEST(FakeClockTest, ParallelSleepersAdvanceTimeByTheLongestSleepNotTheSum) {
  // A generous quiet period so both threads are asleep before time moves, even on a loaded
  // machine.
  FakeClock clock(0, {.auto_advance = true, .quiet = std::chrono::milliseconds(50)});
  const int64_t start = clock.MonotonicNanos();
  std::barrier ready(2);
  std::vector<int64_t> woke(2);
  std::vector<std::thread> sleepers;
  for (int i = 0; i < 2; ++i) {
    sleepers.emplace_back([&, i] {
      ready.arrive_and_wait();
      clock.SleepFor(std::chrono::seconds(i == 0 ? 5 : 3));
      woke[i] = ElapsedMillis(&clock, start);
    });
  }
  for (std::thread& t : sleepers) t.join();
  EXPECT_EQ(ElapsedMillis(&clock, start), 5000);
  EXPECT_EQ(woke[0], 5000);  // each woke at its own deadline
  EXPECT_EQ(woke[1], 3000);
}

TEST(FakeClockTest, WithoutAutoAdvanceSleepersWaitForTheTest) {
  FakeClock clock(0, {.auto_advance = false});
  std::atomic<bool> done{false};
  std::thread sleeper([&] {
    clock.SleepFor(std::chrono::seconds(10));
    done = true;
  });
  ASSERT_TRUE(RealWait([&] { return clock.Sleepers() > 0; }));
  clock.Advance(std::chrono::seconds(9));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(done.load());
  clock.Advance(std::chrono::seconds(1));
  sleeper.join();
  EXPECT_TRUE(done.load());
  EXPECT_EQ(clock.Sleepers(), 0u);
}

TEST(FakeClockTest, ZeroQuietJumpsAtOnceForSingleThreadedUse) {
  FakeClock clock(0, {.auto_advance = true, .quiet = std::chrono::microseconds(0)});
  auto real_start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10000; ++i) clock.SleepFor(std::chrono::seconds(1));
  EXPECT_EQ(clock.MonotonicNanos(), 10000 * 1'000'000'000LL);
  EXPECT_LT(std::chrono::steady_clock::now() - real_start, std::chrono::seconds(5));
}

TEST(FakeClockTest, SleepUnlessStopsEarly) {
  FakeClock clock(0, {.auto_advance = true, .quiet = std::chrono::microseconds(0)});
  std::atomic<bool> stop{false};
  EXPECT_TRUE(clock.SleepUnless(std::chrono::seconds(1), stop));
  EXPECT_EQ(clock.MonotonicNanos(), 1'000'000'000);
  stop = true;
  EXPECT_FALSE(clock.SleepUnless(std::chrono::seconds(1), stop));
  EXPECT_EQ(clock.MonotonicNanos(), 1'000'000'000);
}

TEST(FakeClockTest, BackgroundWaitersNeverMoveTime) {
  FakeClock clock(0, {.auto_advance = true, .quiet = std::chrono::microseconds(500)});
  StopSignal stop;
  std::atomic<int> woke{0};
  std::thread timer([&] {
    while (clock.WaitUnless(std::chrono::minutes(2), stop)) ++woke;
  });
  clock.SleepFor(std::chrono::seconds(30));  // time moves for the sleeper, not the timer
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(clock.MonotonicNanos(), 30'000'000'000);
  EXPECT_EQ(woke.load(), 0);
  clock.Advance(std::chrono::minutes(2));
  EXPECT_TRUE(RealWait([&] { return woke.load() > 0; }));
  stop.Set();
  timer.join();
  EXPECT_EQ(woke.load(), 1);
}

TEST(RealClockTest, AStoppedWaitEndsWithoutWaitingOutItsDuration) {
  StopSignal stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stop.Set();
  });
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(Clock::Real()->WaitUnless(std::chrono::hours(1), stop));
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_TRUE(stop.Set());  // it was set
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
