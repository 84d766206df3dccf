#include "snapshot/pack.h"

#include <gtest/gtest.h>

#include "testing/test_util.h"

namespace standby {
namespace {

TEST(PackTest, TrailerListsEveryBlob) {
  PackBuilder builder;
  std::string a = "first blob", b = RandomBytes(5000, 4);
  EXPECT_EQ(builder.Add(Sha256(a), Compression::kNone, a, a.size()), 0u);
  EXPECT_EQ(builder.Add(Sha256(b), Compression::kLz4, b, 9000), a.size());
  FinishedPack finished = builder.Finish();
  std::string& pack = finished.bytes;
  EXPECT_TRUE(builder.empty());
  ASSERT_OK_AND_ASSIGN(Hash256 id, PackIdOf(pack));
  EXPECT_EQ(id, finished.id);
  ASSERT_OK_AND_ASSIGN(auto blobs, ParsePackTrailer(pack));
  ASSERT_EQ(blobs.size(), 2u);
  EXPECT_EQ(blobs[1].chunk_id, Sha256(b));
  EXPECT_EQ(blobs[1].offset, a.size());
  EXPECT_EQ(blobs[1].stored_length, b.size());
  EXPECT_EQ(blobs[1].raw_length, 9000u);
  EXPECT_EQ(blobs[1].compression, Compression::kLz4);
  EXPECT_EQ(pack.substr(blobs[1].offset, blobs[1].stored_length), b);
}

TEST(PackTest, TruncatedPacksAreCorruption) {
  PackBuilder builder;
  builder.Add(Sha256("x"), Compression::kNone, "x", 1);
  std::string pack = builder.Finish().bytes;
  EXPECT_EQ(ParsePackTrailer(pack.substr(0, pack.size() - 1)).error().code, ErrorCode::kCorruption);
  EXPECT_EQ(ParsePackTrailer(pack.substr(1)).error().code, ErrorCode::kCorruption);
  EXPECT_EQ(PackKey("gpu-1", Sha256("x")),
            "packs/gpu-1/" + Sha256("x").Hex().substr(0, 2) + "/" + Sha256("x").Hex());
}

}  // namespace
}  // namespace standby
