// The real-thread executor: tasks run concurrently and are joined, and an exception escaping a
// task ends that task only, logged, never the process (std::terminate).
#include "env/executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

namespace standby {
namespace {

TEST(ExecutorTest, RunEachRunsEveryItemAndReturnsOnceAllHave) {
  std::atomic<int> sum{0};
  RunEach(Executor::Threads(), "items", 8, [&](size_t i) { sum += static_cast<int>(i); });
  EXPECT_EQ(sum.load(), 28);
}

TEST(ExecutorTest, ATaskThatThrowsEndsAloneAndTheProcessGoesOn) {
  std::atomic<bool> other_ran{false};
  auto thrower =
      Executor::Threads()->Spawn("thrower", [] { throw std::runtime_error("a bug in a pass"); });
  auto odd = Executor::Threads()->Spawn("odd", [] { throw 42; });
  auto other = Executor::Threads()->Spawn("other", [&] { other_ran = true; });
  thrower->Join();
  odd->Join();
  other->Join();
  EXPECT_TRUE(thrower->Done());
  EXPECT_TRUE(odd->Done());
  EXPECT_TRUE(other_ran.load());
}

}  // namespace
}  // namespace standby
