#include "testing/deterministic_scheduler.h"

#include <gtest/gtest.h>

#include <set>

namespace standby {
namespace {

using std::chrono::seconds;

// Three tasks that each append their name around sleeps: the order depends on the seed only.
std::string Interleaving(uint64_t seed) {
  DeterministicScheduler s({.seed = seed});
  std::string order;
  s.Run([&] {
    std::vector<std::unique_ptr<Executor::Task>> tasks;
    for (char c : std::string("abc")) {
      tasks.push_back(s.Spawn(std::string(1, c), [&, c] {
        for (int i = 0; i < 4; ++i) {
          order += c;
          s.SleepFor(std::chrono::milliseconds(0));
        }
      }));
    }
    for (auto& t : tasks) t->Join();
  });
  return order;
}

TEST(DeterministicSchedulerTest, ASeedReplaysTheSameInterleavingAndSeedsDiffer) {
  std::set<std::string> seen;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::string first = Interleaving(seed);
    EXPECT_EQ(first, Interleaving(seed)) << "seed " << seed;
    EXPECT_EQ(first.size(), 12u);
    seen.insert(first);
  }
  EXPECT_GT(seen.size(), 5u) << "the seed must choose the interleaving";
}

TEST(DeterministicSchedulerTest, TimeJumpsToTheEarliestDeadlineWhenNothingCanRun) {
  DeterministicScheduler s({.seed = 3});
  const int64_t start = s.MonotonicNanos();
  std::vector<std::pair<std::string, int64_t>> woke;
  s.Run([&] {
    auto a = s.Spawn("a", [&] {
      s.SleepFor(seconds(5));
      woke.emplace_back("a", s.MonotonicNanos() - start);
    });
    auto b = s.Spawn("b", [&] {
      s.SleepFor(seconds(3));
      woke.emplace_back("b", s.MonotonicNanos() - start);
    });
    a->Join();
    b->Join();
  });
  ASSERT_EQ(woke.size(), 2u);
  EXPECT_EQ(woke[0], std::make_pair(std::string("b"), int64_t{3'000'000'000}));
  EXPECT_EQ(woke[1], std::make_pair(std::string("a"), int64_t{5'000'000'000}));
  EXPECT_EQ(s.MonotonicNanos() - start, 5'000'000'000) << "two sleeps overlap, not add";
}

TEST(DeterministicSchedulerTest, WaitsEndOnTheirConditionOrTheirDeadline) {
  DeterministicScheduler s({.seed = 5});
  std::atomic<bool> stop{false};
  StopSignal signal;
  Doorbell bell;
  bool slept_whole = true, waited_whole = true, rang = false, timed_out_bell = true;
  s.Run([&] {
    auto sleeper = s.Spawn("sleeper", [&] { slept_whole = s.SleepUnless(seconds(100), stop); });
    auto waiter = s.Spawn("waiter", [&] { waited_whole = s.WaitUnless(seconds(100), signal); });
    auto ringer = s.Spawn("bell", [&] {
      rang = s.WaitForBell(seconds(100), bell);
      timed_out_bell = s.WaitForBell(seconds(1), bell);
    });
    s.SleepFor(seconds(10));
    stop = true;
    signal.Set();
    bell.Ring();
    sleeper->Join();
    waiter->Join();
    ringer->Join();
  });
  EXPECT_FALSE(slept_whole);
  EXPECT_FALSE(waited_whole);
  EXPECT_TRUE(rang);
  EXPECT_FALSE(timed_out_bell);
  EXPECT_EQ(s.MonotonicNanos(), 11'000'000'000) << "woken at 10 s, the bell timed out at 11 s";
}

TEST(DeterministicSchedulerTest, AnAbandonedGroupNeverRunsAgainAndKeepsItsStack) {
  DeterministicScheduler s({.seed = 7});
  int ticks = 0;
  bool destroyed = false;
  struct Tracer {
    bool* flag;
    ~Tracer() { *flag = true; }
  };
  s.Run([&] {
    int group = 0;
    auto process = s.SpawnInGroup(
        "process",
        [&] {
          Tracer on_stack{&destroyed};
          auto child = s.Spawn("child", [&] {
            while (true) {
              ++ticks;
              s.SleepFor(seconds(1));
            }
          });
          child->Join();
        },
        &group);
    s.SleepFor(std::chrono::milliseconds(3500));
    EXPECT_EQ(s.CurrentGroup(), 0);
    s.Abandon(group);
    const int at_kill = ticks;
    s.SleepFor(seconds(10));
    EXPECT_EQ(ticks, at_kill) << "a killed process runs no more";
    process->Join();  // returns: it is dead
  });
  EXPECT_EQ(ticks, 4);
  EXPECT_FALSE(destroyed) << "kill -9 runs no destructor";
}

// A process that kills itself from one of its own tasks (a crash hook inside it): that task
// stops at its next wait too, and nothing of the process runs again.
TEST(DeterministicSchedulerTest, AGroupAbandonedFromInsideStopsAtItsNextWait) {
  DeterministicScheduler s({.seed = 3});
  int ticks = 0;
  int after_kill = 0;
  s.Run([&] {
    int group = 0;
    auto process = s.SpawnInGroup(
        "process",
        [&] {
          while (true) {
            if (++ticks == 3) {
              s.Abandon(s.CurrentGroup());
              s.SleepFor(seconds(1));
              ++after_kill;  // never reached
            }
            s.SleepFor(seconds(1));
          }
        },
        &group);
    s.SleepFor(seconds(20));
    process->Join();
  });
  EXPECT_EQ(ticks, 3);
  EXPECT_EQ(after_kill, 0) << "a task that killed its own process ran on";
}

TEST(DeterministicSchedulerTest, TheStepHookRunsBetweenSwitchesAndCanKill) {
  DeterministicScheduler s({.seed = 9});
  int steps_seen = 0;
  int group = -1;
  int work = 0;
  s.SetStepHook([&] {
    ++steps_seen;
    if (work == 3 && group >= 0) s.Abandon(group);
  });
  s.Run([&] {
    auto p = s.SpawnInGroup(
        "worker",
        [&] {
          for (int i = 0; i < 10; ++i) {
            ++work;
            s.SleepFor(seconds(1));
          }
        },
        &group);
    s.SleepFor(seconds(60));
  });
  EXPECT_EQ(work, 3);
  EXPECT_GE(static_cast<uint64_t>(steps_seen), s.steps());
  EXPECT_GT(s.steps(), 3u);
}

TEST(DeterministicSchedulerTest, RunEachRunsEveryItemAsATask) {
  DeterministicScheduler s({.seed = 11});
  std::vector<int> done(5, 0);
  s.Run([&] {
    RunEach(&s, "item", done.size(), [&](size_t i) {
      s.SleepFor(seconds(static_cast<int>(5 - i)));
      done[i] = 1;
    });
  });
  EXPECT_EQ(done, std::vector<int>(5, 1));
  EXPECT_EQ(s.MonotonicNanos(), 5'000'000'000) << "the items slept side by side";
}

TEST(DeterministicSchedulerDeathTest, ARealThreadUsingTheSchedulerAborts) {
  EXPECT_DEATH(
      {
        DeterministicScheduler s({.seed = 1});
        s.Run([&] {
          std::thread outside([&] { s.SleepFor(seconds(1)); });
          outside.join();
        });
      },
      "a thread the scheduler did not start");
}

}  // namespace
}  // namespace standby
