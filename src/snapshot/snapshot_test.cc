#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/log.h"
#include "env/fault_injecting_file_system.h"
#include "snapshot/test_fixture.h"
#include "store/fault_injecting_store.h"

namespace standby {
namespace {

class SnapshotTest : public SnapshotFixture {};

const ManifestEntry* Find(const Manifest& m, const std::string& path) {
  for (const auto& e : m.entries) {
    if (e.path == path) return &e;
  }
  return nullptr;
}

TEST_F(SnapshotTest, FullSnapshotRecordsEveryEntryAndMovesLatest) {
  MakeWorkspace();
  ASSERT_OK_AND_ASSIGN(SnapshotResult r, Snap());
  EXPECT_EQ(r.header.snapshot_type, "full");
  EXPECT_FALSE(r.header.base_snapshot_id.has_value());
  EXPECT_EQ(r.header.files_total, 5u);
  EXPECT_EQ(r.header.files_changed, 5u);
  EXPECT_GT(r.header.bytes_uploaded, 3u << 20);  // the random weights do not compress
  ASSERT_OK_AND_ASSIGN(Manifest m, Latest());
  EXPECT_EQ(m.header.snapshot_id, r.header.snapshot_id);
  ASSERT_NE(Find(m, "outputs"), nullptr);
  EXPECT_EQ(Find(m, "outputs")->type, FileType::kDirectory);
  EXPECT_EQ(Find(m, "outputs")->mode, 0700u);
  ASSERT_NE(Find(m, "current"), nullptr);
  EXPECT_EQ(Find(m, "current")->symlink_target, "models/model.safetensors");
  EXPECT_EQ(Find(m, "run.sh")->mode, 0755u);
  EXPECT_EQ(Find(m, "empty.txt")->size, 0u);
  EXPECT_TRUE(Find(m, "empty.txt")->chunks.empty());
  EXPECT_GE(Find(m, "models/model.safetensors")->chunks.size(), 2u);
  // The seed-shaped metadata sits next to the manifest.
  std::string prefix = SnapshotPrefix("gpu-1", r.header.snapshot_id);
  ASSERT_OK_AND_ASSIGN(std::string metadata, store_->Get(prefix + "metadata.json"));
  auto j = nlohmann::json::parse(metadata);
  EXPECT_EQ(j["files"].size(), 5u);
  EXPECT_EQ(j["total_size"], r.header.bytes_total);
}

TEST_F(SnapshotTest, IncrementalReusesUnchangedFilesWithoutReadingThem) {
  MakeWorkspace();
  ASSERT_OK_AND_ASSIGN(SnapshotResult base, Snap());
  // Change 2 files, add 1, delete 1.
  WriteFile(ws("models/config.json"), "{\"layers\": 24}");
  WriteFile(ws("data/train.txt"), std::string(600000, 't') + RandomBytes(1000, 99));
  WriteFile(ws("data/new.txt"), "fresh");
  ASSERT_EQ(::unlink(ws("run.sh").c_str()), 0);

  // Any attempt to read the untouched weights fails: the snapshot must not open them.
  FaultInjectingFileSystem fs(FileSystem::Real());
  fs.FailOpenRead("model.safetensors", EACCES);
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto old_logger = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
  auto r = Snap(nullptr, &fs);
  spdlog::set_default_logger(old_logger);
  ASSERT_OK(r);
  EXPECT_EQ(r->header.snapshot_type, "incremental");
  EXPECT_EQ(r->header.base_snapshot_id, base.header.snapshot_id);
  EXPECT_EQ(r->header.files_total, 5u);
  EXPECT_EQ(r->header.files_changed, 3u);
  EXPECT_LT(r->header.bytes_uploaded, 700'000u);  // not the 3 MiB of weights again
  EXPECT_NE(log.str().find("Incremental: 3 files changed out of 5 total"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(Manifest m, Latest());
  EXPECT_EQ(Find(m, "run.sh"), nullptr);
  ASSERT_NE(Find(m, "data/new.txt"), nullptr);
}

TEST_F(SnapshotTest, NoChangeSnapshotUploadsNoPacks) {
  MakeWorkspace();
  ASSERT_OK(Snap());
  ASSERT_OK_AND_ASSIGN(SnapshotResult again, Snap());
  EXPECT_EQ(again.header.files_changed, 0u);
  EXPECT_EQ(again.header.bytes_uploaded, 0u);
  EXPECT_EQ(again.packs_uploaded, 0u);
}

TEST_F(SnapshotTest, IdenticalContentIsStoredOnce) {
  std::string weights = RandomBytes(2 << 20, 5);
  WriteFile(ws("a.bin"), weights);
  WriteFile(ws("copy/b.bin"), weights);
  ASSERT_OK_AND_ASSIGN(SnapshotResult r, Snap());
  EXPECT_LT(r.header.bytes_uploaded, (2u << 20) + 100'000);
  // Another instance stores its own copy: deduplication stays inside an instance, whose
  // indexes no other instance's host can write (docs/design.md, "Threat model").
  SnapshotOptions other = Options();
  other.instance_id = "gpu-2";
  ASSERT_OK_AND_ASSIGN(SnapshotResult second, CreateSnapshot(store_.get(), other));
  EXPECT_EQ(second.header.snapshot_type, "full");
  EXPECT_GT(second.header.bytes_uploaded, 2u << 20);
  EXPECT_LT(second.header.bytes_uploaded, (2u << 20) + 100'000);
}

TEST_F(SnapshotTest, ChangedOneMegabyteUploadsLittle) {
  std::string weights = RandomBytes(5 << 20, 6);
  WriteFile(ws("w.bin"), weights);
  ASSERT_OK(Snap());
  std::string changed = weights;
  std::string patch = RandomBytes(1 << 20, 77);
  changed.replace(2 << 20, patch.size(), patch);
  WriteFile(ws("w.bin"), changed);
  ASSERT_OK_AND_ASSIGN(SnapshotResult r, Snap());
  EXPECT_EQ(r.header.files_changed, 1u);
  EXPECT_LE(r.header.bytes_uploaded, 4u << 20);
}

TEST_F(SnapshotTest, SkipsSpecialFilesWithAWarning) {
  WriteFile(ws("a.txt"), "a");
  ASSERT_EQ(::mkfifo(ws("pipe").c_str(), 0644), 0);
  ASSERT_OK_AND_ASSIGN(SnapshotResult r, Snap());
  EXPECT_EQ(r.skipped, std::vector<std::string>{"pipe"});
  ASSERT_OK_AND_ASSIGN(Manifest m, Latest());
  EXPECT_EQ(Find(m, "pipe"), nullptr);
}

TEST_F(SnapshotTest, AFileChangedOnceWhileReadIsReadAgain) {
  WriteFile(ws("log.txt"), std::string(100000, 'x'));
  FaultInjectingFileSystem fs(FileSystem::Real());
  int calls = 0;
  fs.OnRead("log.txt", [&] {
    if (calls++ == 0) WriteFile(ws("log.txt"), std::string(200000, 'y'));
  });
  ASSERT_OK(Snap(nullptr, &fs));
  ASSERT_OK_AND_ASSIGN(Manifest m, Latest());
  EXPECT_EQ(Find(m, "log.txt")->size, 200000u);
}

TEST_F(SnapshotTest, WorkspaceMustBeADirectory) {
  SnapshotOptions o = Options();
  o.workspace = dir_.Sub("missing");
  auto r = CreateSnapshot(store_.get(), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  o.instance_id = "../escape";
  EXPECT_EQ(CreateSnapshot(store_.get(), o).error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace standby
