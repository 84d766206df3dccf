#include "base/parallel.h"

#include <gtest/gtest.h>

#include <atomic>

namespace standby {
namespace {

TEST(ParallelForTest, RunsEveryIndexOnce) {
  std::vector<std::atomic<int>> seen(1000);
  ASSERT_TRUE(ParallelFor(seen.size(), 4, [&](size_t i) {
                seen[i]++;
                return OkStatus();
              }).has_value());
  for (auto& s : seen) EXPECT_EQ(s.load(), 1);
}

TEST(ParallelForTest, ReturnsTheFirstErrorAndStopsEarly) {
  std::atomic<int> ran{0};
  Status status = ParallelFor(100000, 2, [&](size_t i) -> Status {
    ran++;
    if (i == 10) return CorruptionError("bad item 10");
    return OkStatus();
  });
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().message, "bad item 10");
  EXPECT_LT(ran.load(), 100000);
}

TEST(TaskQueueTest, RunsTasksAndBoundsTheQueue) {
  TaskQueue queue(2, 1);
  std::atomic<int> done{0};
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(queue.Submit([&] {
      done++;
      return OkStatus();
    }));
  }
  ASSERT_TRUE(queue.Wait().has_value());
  EXPECT_EQ(done.load(), 50);
}

TEST(TaskQueueTest, KeepsTheFirstErrorAndRefusesLaterTasks) {
  TaskQueue queue(1, 1);
  ASSERT_TRUE(queue.Submit([] { return Status(UnavailableError("upload failed")); }));
  Status waited = queue.Wait();
  ASSERT_FALSE(waited.has_value());
  EXPECT_EQ(waited.error().message, "upload failed");
  EXPECT_FALSE(queue.Submit([] { return OkStatus(); }));
  EXPECT_TRUE(queue.failed());
}

}  // namespace
}  // namespace standby
