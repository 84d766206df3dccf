#include "snapshot/manifest.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/test_util.h"

namespace standby {
namespace {

Manifest Sample() {
  Manifest m;
  m.header.snapshot_id = "20261129T010203Z-abcd0123";
  m.header.instance_id = "gpu-1";
  m.header.snapshot_type = "incremental";
  m.header.base_snapshot_id = "20261129T000000Z-00000000";
  m.header.files_total = 1;
  m.header.files_changed = 1;
  m.header.bytes_total = 5;
  m.header.bytes_uploaded = 99;
  m.header.created_at = 1'795'000'000'000'000'000;
  m.chunks.push_back({Sha256("hello"), Sha256("pack"), 0, 5, 5, Compression::kNone});
  ManifestEntry dir{.path = "d", .type = FileType::kDirectory, .mode = 0755, .mtime_ns = 1};
  ManifestEntry file{.path = "d/f",
                     .type = FileType::kRegular,
                     .mode = 0640,
                     .mtime_ns = 2'500'000'000,
                     .size = 5};
  file.chunks = {0};
  file.content_hash = ContentHash({Sha256("hello")});
  ManifestEntry link{.path = "d/l", .type = FileType::kSymlink, .mode = 0777, .mtime_ns = 3};
  link.symlink_target = "f";
  m.entries = {dir, file, link};
  return m;
}

TEST(ManifestTest, RoundTripsEveryField) {
  Manifest m = Sample();
  ASSERT_OK_AND_ASSIGN(Manifest back, ParseManifest(SerializeManifest(m)));
  EXPECT_EQ(back.header.snapshot_id, m.header.snapshot_id);
  EXPECT_EQ(back.header.base_snapshot_id, m.header.base_snapshot_id);
  EXPECT_EQ(back.header.bytes_uploaded, 99u);
  EXPECT_EQ(back.header.created_at, m.header.created_at);
  ASSERT_EQ(back.entries.size(), 3u);
  EXPECT_EQ(back.entries[1].content_hash, m.entries[1].content_hash);
  EXPECT_EQ(back.entries[1].mode, 0640u);
  EXPECT_EQ(back.entries[2].symlink_target, "f");
  EXPECT_EQ(back.chunks[0].id, Sha256("hello"));
  EXPECT_OK(ValidateManifest(back));
}

TEST(ManifestTest, NamesThatAreNotUtf8OrNeedEscapingRoundTrip) {
  Manifest m = Sample();
  m.entries[1].path = "d/caf\xe9 \"quoted\"\n\\.bin";  // Latin-1 byte, quotes, newline
  m.entries[2].symlink_target = "\xff\xfe";
  std::string text = SerializeManifest(m);
  EXPECT_TRUE(nlohmann::json::accept(text));
  ASSERT_OK_AND_ASSIGN(Manifest back, ParseManifest(text));
  EXPECT_EQ(back.entries[1].path, m.entries[1].path);
  EXPECT_EQ(back.entries[2].symlink_target, m.entries[2].symlink_target);
  Manifest unicode = Sample();
  unicode.entries[1].path = "d/модель-权重-🚀.safetensors";
  ASSERT_OK_AND_ASSIGN(Manifest back2, ParseManifest(SerializeManifest(unicode)));
  EXPECT_EQ(back2.entries[1].path, unicode.entries[1].path);
}

TEST(ManifestTest, HeaderCarriesEveryFieldTheDesignNames) {
  auto j = nlohmann::json::parse(SerializeHeader(Sample().header));
  for (const char* field :
       {"snapshot_id", "instance_id", "snapshot_type", "base_snapshot_id", "files_total",
        "files_changed", "bytes_total", "bytes_uploaded", "created_at", "compression"}) {
    EXPECT_TRUE(j.contains(field)) << field;
  }
}

TEST(ManifestTest, SeedMetadataHasTheSeedsShape) {
  auto j = nlohmann::json::parse(SeedMetadataJson(Sample()));
  EXPECT_EQ(j["snapshot_id"], "20261129T010203Z-abcd0123");
  EXPECT_EQ(j["timestamp"], "2026-11-18T11:06:40.000Z");
  EXPECT_DOUBLE_EQ(j["files"]["d/f"].get<double>(), 2.5);
  EXPECT_EQ(j["files"].size(), 1u);
  EXPECT_EQ(j["total_size"], 5);
  EXPECT_EQ(j["compression"], "lz4");
}

TEST(ManifestTest, TruncatedManifestsAreCorruption) {
  std::string text = SerializeManifest(Sample());
  auto parsed = ParseManifest(text.substr(0, text.size() / 2));
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().code, ErrorCode::kCorruption);
}

TEST(ManifestTest, ValidationRejectsUnsafeOrInconsistentEntries) {
  for (const char* path : {"../evil", "/etc/passwd", "d/../../x", "d//f", "./f", "d/."}) {
    Manifest m = Sample();
    m.entries[1].path = path;
    auto status = ValidateManifest(m);
    ASSERT_FALSE(status.has_value()) << path;
    EXPECT_EQ(status.error().code, ErrorCode::kCorruption);
    EXPECT_NE(status.error().message.find(path), std::string::npos);
  }
  Manifest orphan = Sample();
  orphan.entries[1].path = "missing-dir/f";
  EXPECT_FALSE(ValidateManifest(orphan).has_value());
  Manifest through_link = Sample();
  through_link.entries.push_back(through_link.entries[1]);
  through_link.entries.back().path = "d/l/f";  // a file under a symlink
  EXPECT_FALSE(ValidateManifest(through_link).has_value());
  Manifest duplicate = Sample();
  duplicate.entries.push_back(duplicate.entries[1]);
  EXPECT_FALSE(ValidateManifest(duplicate).has_value());
  Manifest bad_chunk = Sample();
  bad_chunk.entries[1].chunks = {7};
  EXPECT_FALSE(ValidateManifest(bad_chunk).has_value());
  Manifest bad_size = Sample();
  bad_size.entries[1].size = 6;
  EXPECT_FALSE(ValidateManifest(bad_size).has_value());
}

TEST(ManifestTest, SymlinkContainment) {
  EXPECT_TRUE(SymlinkStaysInside("a/link", "b"));
  EXPECT_TRUE(SymlinkStaysInside("a/link", "../c"));
  EXPECT_TRUE(SymlinkStaysInside("a/b/link", "../../c/./d"));
  EXPECT_FALSE(SymlinkStaysInside("link", "../outside"));
  EXPECT_FALSE(SymlinkStaysInside("a/link", "../../etc/passwd"));
  EXPECT_FALSE(SymlinkStaysInside("a/link", "/etc/passwd"));
}

}  // namespace
}  // namespace standby
