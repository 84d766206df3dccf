#include "snapshot/compression.h"

#include <gtest/gtest.h>

#include "testing/test_util.h"

namespace standby {
namespace {

TEST(CompressionTest, CompressibleChunksRoundTrip) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "gradient tensor layer " + std::to_string(i % 97) + "\n";
  for (Compression c : {Compression::kLz4, Compression::kZstd}) {
    std::string stored, back;
    ASSERT_EQ(CompressChunk(text, c, &stored), c);
    EXPECT_LT(stored.size(), text.size() / 2);
    ASSERT_OK(DecompressChunk(stored, c, text.size(), &back));
    EXPECT_EQ(back, text);
  }
}

TEST(CompressionTest, IncompressibleChunksAreStoredRaw) {
  std::string random = RandomBytes(1 << 20, 3);
  std::string stored;
  EXPECT_EQ(CompressChunk(random, Compression::kLz4, &stored), Compression::kNone);
  EXPECT_EQ(CompressChunk(random, Compression::kNone, &stored), Compression::kNone);
  EXPECT_EQ(CompressChunk(random, Compression::kZstd, &stored), Compression::kNone);
}

TEST(CompressionTest, DamagedChunksAreCorruption) {
  std::string text(100000, 'a');
  std::string stored, back;
  ASSERT_EQ(CompressChunk(text, Compression::kLz4, &stored), Compression::kLz4);
  EXPECT_EQ(
      DecompressChunk(stored.substr(0, stored.size() / 2), Compression::kLz4, text.size(), &back)
          .error()
          .code,
      ErrorCode::kCorruption);
  EXPECT_FALSE(DecompressChunk(stored, Compression::kLz4, text.size() + 1, &back).has_value());
}

TEST(CompressionTest, ObjectFramesRoundTripAndRejectTruncation) {
  std::string json = "{\"entries\": [" + std::string(5000, ' ') + "]}";
  std::string frame = CompressObject(json);
  ASSERT_OK_AND_ASSIGN(std::string back, DecompressObject(frame));
  EXPECT_EQ(back, json);
  EXPECT_EQ(DecompressObject(frame.substr(0, frame.size() - 3)).error().code,
            ErrorCode::kCorruption);
  EXPECT_EQ(DecompressObject("not zstd").error().code, ErrorCode::kCorruption);
}

}  // namespace
}  // namespace standby
