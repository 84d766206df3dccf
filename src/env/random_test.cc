#include "env/random.h"

#include <gtest/gtest.h>

#include <set>

namespace standby {
namespace {

TEST(RandomTest, ASeedReplaysTheSameSequence) {
  SeededRandom a(42), b(42), c(43);
  std::string ida = a.HexId(20), idb = b.HexId(20);
  EXPECT_EQ(ida, idb);
  EXPECT_EQ(ida.size(), 20u);
  EXPECT_NE(ida, c.HexId(20));
  EXPECT_EQ(a.Next(), b.Next());
}

TEST(RandomTest, JitterStaysInsideItsBand) {
  SeededRandom r(7);
  std::set<int64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    auto j = r.Jitter(std::chrono::seconds(100), 0.1);
    EXPECT_GE(j, std::chrono::seconds(90));
    EXPECT_LE(j, std::chrono::seconds(110));
    seen.insert(j.count());
    double u = r.Uniform();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
    EXPECT_LT(r.Below(5), 5u);
  }
  EXPECT_GT(seen.size(), 900u);
}

}  // namespace
}  // namespace standby
