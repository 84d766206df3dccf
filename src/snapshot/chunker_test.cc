#include "snapshot/chunker.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "snapshot/hash.h"
#include "testing/test_util.h"

namespace standby {
namespace {

std::vector<size_t> Cuts(const Chunker& chunker, const std::string& data) {
  std::vector<size_t> cuts;
  size_t pos = 0;
  while (pos < data.size()) {
    pos += chunker.FindCut(reinterpret_cast<const uint8_t*>(data.data()) + pos, data.size() - pos);
    cuts.push_back(pos);
  }
  return cuts;
}

TEST(ChunkerTest, GearTableIsPinnedByTheFormat) {
  // docs/formats/repository.md: splitmix64 from seed 0x5374616e64627931.
  const uint64_t* gear = Chunker::GearTable();
  EXPECT_EQ(gear[0], 0x3d00665c01021c7aULL);
  EXPECT_NE(gear[1], gear[0]);
}

TEST(ChunkerTest, ChunksRespectMinAndMaxAndCoverTheInput) {
  ChunkerParams params{64 * 1024, 256 * 1024, 1024 * 1024};
  ASSERT_TRUE(params.Validate().has_value());
  Chunker chunker(params);
  std::string data = RandomBytes(20 << 20, 7);
  std::vector<size_t> cuts = Cuts(chunker, data);
  ASSERT_EQ(cuts.back(), data.size());
  size_t prev = 0;
  for (size_t i = 0; i < cuts.size(); ++i) {
    size_t len = cuts[i] - prev;
    if (i + 1 < cuts.size()) {
      EXPECT_GT(len, params.min_size);
    }
    EXPECT_LE(len, params.max_size);
    prev = cuts[i];
  }
  double average = static_cast<double>(data.size()) / static_cast<double>(cuts.size());
  EXPECT_GT(average, params.min_size);
  EXPECT_LT(average, 2.0 * params.avg_size);
}

TEST(ChunkerTest, CutsResynchroniseAfterAnInsertion) {
  Chunker chunker(ChunkerParams{16 * 1024, 64 * 1024, 256 * 1024});
  std::string data = RandomBytes(4 << 20, 9);
  std::string shifted = "inserted bytes" + data;
  auto ids = [&](const std::string& d) {
    std::set<std::string> out;
    size_t prev = 0;
    for (size_t cut : Cuts(chunker, d)) {
      out.insert(Sha256(std::string_view(d).substr(prev, cut - prev)).Hex());
      prev = cut;
    }
    return out;
  };
  std::set<std::string> a = ids(data), b = ids(shifted);
  size_t shared = 0;
  for (const auto& id : a) shared += b.count(id);
  EXPECT_GE(shared + 2, a.size());  // only the chunk(s) around the insertion differ
}

TEST(ChunkerTest, ZerosAreCutAtMax) {
  Chunker chunker(ChunkerParams{});
  std::string zeros(20 << 20, '\0');
  std::vector<size_t> cuts = Cuts(chunker, zeros);
  ASSERT_EQ(cuts.size(), 3u);
  EXPECT_EQ(cuts[0], ChunkerParams{}.max_size);
  EXPECT_EQ(cuts[1], 2 * ChunkerParams{}.max_size);
  EXPECT_EQ(cuts[2], zeros.size());
}

TEST(ChunkerTest, InvalidParamsAreRejected) {
  EXPECT_FALSE((ChunkerParams{1024, 3000, 8192}).Validate().has_value());
  EXPECT_FALSE((ChunkerParams{4096, 4096, 8192}).Validate().has_value());
  EXPECT_FALSE((ChunkerParams{1024, 4096, 64 << 20}).Validate().has_value());
}

}  // namespace
}  // namespace standby
