#include <gtest/gtest.h>
#include <sys/stat.h>

#include "env/file_system.h"
#include "snapshot/test_fixture.h"
#include "snapshot/verifier.h"

namespace standby {
namespace {

class RestoreTest : public SnapshotFixture {
 protected:
  FileStat Stat(const std::string& path) { return *FileSystem::Real()->Lstat(path); }
};

TEST_F(RestoreTest, RestoresAByteIdenticalTreeWithModesAndTimes) {
  MakeWorkspace();
  FileSystem* fs = FileSystem::Real();
  ASSERT_OK(fs->SetMtime(ws("models/config.json"), 1'600'000'000'123'456'789));
  ASSERT_OK(Snap());
  std::vector<std::string> lines;
  ASSERT_OK_AND_ASSIGN(Manifest m, Latest());
  RestoreOptions o;
  o.clock = Clock::Real();
  o.target = out();
  o.progress = [&](const std::string& line) { lines.push_back(line); };
  ASSERT_OK_AND_ASSIGN(RestoreResult r, RestoreSnapshot(store_.get(), m, o));
  EXPECT_EQ(r.validation, Validation::kOk);
  EXPECT_EQ(r.files_restored, 5u);
  EXPECT_EQ(r.files_expected, 5u);
  EXPECT_EQ(ReadFile(out("models/model.safetensors")), ReadFile(ws("models/model.safetensors")));
  EXPECT_EQ(ReadFile(out("data/train.txt")), ReadFile(ws("data/train.txt")));
  EXPECT_EQ(ReadFile(out("empty.txt")), "");
  EXPECT_EQ(Stat(out("run.sh")).mode, 0755u);
  EXPECT_EQ(Stat(out("outputs")).type, FileType::kDirectory);
  EXPECT_EQ(Stat(out("outputs")).mode, 0700u);
  EXPECT_EQ(Stat(out("current")).type, FileType::kSymlink);
  EXPECT_EQ(*fs->ReadLink(out("current")), "models/model.safetensors");
  EXPECT_EQ(Stat(out("models/config.json")).mtime_ns, 1'600'000'000'123'456'789);
  EXPECT_EQ(Stat(out("models")).mtime_ns, Stat(ws("models")).mtime_ns);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("\u2713 Restored 5 files (", 0), 0u) << lines.back();
  EXPECT_NE(lines.front().find("Downloading: "), std::string::npos);
  EXPECT_NE(lines.front().find("/s"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(DirectoryVerification v, VerifyDirectory(m, out(), fs));
  EXPECT_EQ(v.validation, Validation::kOk);
}

TEST_F(RestoreTest, OddFileNamesSurviveTheRoundTrip) {
  WriteFile(ws("caf\xe9-latin1.txt"), "bytes, not UTF-8");
  WriteFile(ws("new\nline \"q\".txt"), "escaped");
  WriteFile(ws("模型/权重.bin"), RandomBytes(1000, 5));
  ASSERT_OK(Snap());
  ASSERT_OK_AND_ASSIGN(RestoreResult r, RestoreTo(out()));
  EXPECT_EQ(r.validation, Validation::kOk);
  EXPECT_EQ(ReadFile(out("caf\xe9-latin1.txt")), "bytes, not UTF-8");
  EXPECT_EQ(ReadFile(out("new\nline \"q\".txt")), "escaped");
  EXPECT_EQ(ReadFile(out("模型/权重.bin")), RandomBytes(1000, 5));
}

TEST_F(RestoreTest, ProgressIsReportedAtEveryTenPercent) {
  for (int i = 0; i < 20; ++i) WriteFile(ws("f" + std::to_string(i)), RandomBytes(700'000, i));
  ASSERT_OK(Snap());
  ASSERT_OK_AND_ASSIGN(Manifest m, Latest());
  std::vector<std::string> lines;
  RestoreOptions o;
  o.clock = Clock::Real();
  o.target = out();
  o.threads = 1;
  o.progress = [&](const std::string& line) { lines.push_back(line); };
  ASSERT_OK(RestoreSnapshot(store_.get(), m, o));
  std::vector<std::string> downloading;
  for (const auto& l : lines) {
    if (l.starts_with("Downloading: ")) downloading.push_back(l);
  }
  EXPECT_GE(downloading.size(), 9u);
  EXPECT_LE(downloading.size(), 10u);
  EXPECT_NE(downloading.back().find("100%"), std::string::npos);
}

TEST_F(RestoreTest, RefusesANonEmptyTargetWithoutOverwrite) {
  MakeWorkspace();
  ASSERT_OK(Snap());
  WriteFile(out("keep.txt"), "mine");
  auto r = RestoreTo(out());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("--overwrite"), std::string::npos);
  EXPECT_EQ(ReadFile(out("keep.txt")), "mine");
}

TEST_F(RestoreTest, OverwriteRewritesOnlyWhatDiffersAndRemovesExtras) {
  MakeWorkspace();
  ASSERT_OK(Snap());
  ASSERT_OK(RestoreTo(out()));
  // Drift the restored copy: edit one file, add an extra file and dir, replace a file by a dir.
  WriteFile(out("models/config.json"), "{\"layers\": 1}");
  WriteFile(out("stale/old.bin"), "old");
  ASSERT_EQ(::unlink(out("empty.txt").c_str()), 0);
  ASSERT_EQ(::mkdir(out("empty.txt").c_str(), 0755), 0);
  uint64_t weights_inode = Stat(out("models/model.safetensors")).inode;

  ASSERT_OK_AND_ASSIGN(RestoreResult r, RestoreTo(out(), /*overwrite=*/true));
  EXPECT_EQ(r.validation, Validation::kOk);
  EXPECT_EQ(r.files_unchanged, 3u);  // weights, train.txt, run.sh
  EXPECT_EQ(r.files_removed, 2u);    // stale/ and the empty.txt directory
  EXPECT_EQ(Stat(out("models/model.safetensors")).inode, weights_inode);  // not rewritten
  EXPECT_EQ(ReadFile(out("models/config.json")), "{\"layers\": 12}");
  EXPECT_EQ(Stat(out("empty.txt")).type, FileType::kRegular);
  EXPECT_EQ(FileSystem::Real()->Lstat(out("stale")).error().code, ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(Manifest m, Latest());
  ASSERT_OK_AND_ASSIGN(DirectoryVerification v, VerifyDirectory(m, out(), FileSystem::Real()));
  EXPECT_EQ(v.validation, Validation::kOk);
  EXPECT_TRUE(v.extra.empty());
}

TEST_F(RestoreTest, OverwriteReusesLocalChunksOfAPartlyChangedFile) {
  std::string weights = RandomBytes(6 << 20, 11);
  WriteFile(ws("w.bin"), weights);
  ASSERT_OK(Snap());
  ASSERT_OK(RestoreTo(out()));
  std::string changed = weights;
  std::string patch = RandomBytes(1 << 20, 12);
  changed.replace(3 << 20, patch.size(), patch);
  WriteFile(ws("w.bin"), changed);
  ASSERT_OK(Snap());
  ASSERT_OK_AND_ASSIGN(RestoreResult r, RestoreTo(out(), /*overwrite=*/true));
  EXPECT_EQ(ReadFile(out("w.bin")), changed);
  EXPECT_GT(r.bytes_reused, 2u << 20);
  EXPECT_LT(r.bytes_downloaded, 4u << 20);
}

}  // namespace
}  // namespace standby
