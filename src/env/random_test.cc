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

TEST(RandomTest, UniformAndBelowStayInsideTheirRanges) {
  SeededRandom r(7);
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    seen.insert(r.Below(1'000'000));
    double u = r.Uniform();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
    EXPECT_LT(r.Below(5), 5u);
  }
  EXPECT_GT(seen.size(), 990u);  // not stuck on a few values
}

}  // namespace
}  // namespace standby
