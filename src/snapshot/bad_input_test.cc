// Each bad input of the issue: a clear error, a non-zero outcome, nothing stored lost,
// `latest` never moved by a failed snapshot, no wrong content under a final name.
#include <gtest/gtest.h>

#include <cerrno>

#include "env/fault_injecting_file_system.h"
#include "snapshot/pack.h"
#include "snapshot/test_fixture.h"
#include "store/fault_injecting_store.h"

namespace standby {
namespace {

class BadInputTest : public SnapshotFixture {
 protected:
  // Files under `dir` that are not hidden temporaries (the names a user would see).
  std::vector<std::string> VisibleFiles(const std::string& dir) {
    std::vector<std::string> out;
    auto names = FileSystem::Real()->ListDir(dir);
    if (!names) return out;
    for (const auto& n : *names) {
      if (n.starts_with(".standby-restore-")) ADD_FAILURE() << "temp file left: " << n;
      out.push_back(n);
    }
    return out;
  }
  void WriteManifest(Manifest m) {
    ASSERT_OK_AND_ASSIGN(auto repo, Repository::Open(store_.get(), true));
    ASSERT_OK(repo->WriteSnapshot(m));
    ASSERT_OK(repo->WriteLatest(m.header.instance_id, m.header.snapshot_id));
  }
};

TEST_F(BadInputTest, FlippedPackByteFailsTheRestoreWithoutAWrongFile) {
  WriteFile(ws("w.bin"), RandomBytes(3 << 20, 1));
  ASSERT_OK(Snap());
  FaultInjectingStore flipped(store_.get());
  flipped.CorruptGets("packs/");
  auto r = RestoreTo(out(), false, &flipped);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kCorruption);
  EXPECT_NE(r.error().message.find("hash mismatch"), std::string::npos);
  EXPECT_TRUE(VisibleFiles(out()).empty());
}

TEST_F(BadInputTest, MissingPackIsNamed) {
  WriteFile(ws("w.bin"), RandomBytes(1 << 20, 1));
  ASSERT_OK(Snap());
  ASSERT_OK_AND_ASSIGN(auto packs, ListAll(store_.get(), "packs/"));
  for (const auto& p : packs) ASSERT_OK(store_->Delete(p.key));
  auto r = RestoreTo(out());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("fetching pack"), std::string::npos);
  EXPECT_TRUE(VisibleFiles(out()).empty());
}

TEST_F(BadInputTest, TruncatedManifestIsCorruption) {
  WriteFile(ws("a.txt"), "a");
  ASSERT_OK_AND_ASSIGN(SnapshotResult s, Snap());
  std::string key = SnapshotPrefix("gpu-1", s.header.snapshot_id) + "manifest";
  ASSERT_OK_AND_ASSIGN(std::string frame, store_->Get(key));
  ASSERT_OK(store_->Put(key, frame.substr(0, frame.size() / 2)));
  auto m = Latest();
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kCorruption);
  EXPECT_NE(m.error().message.find(s.header.snapshot_id), std::string::npos);
}

TEST_F(BadInputTest, ManifestPathsThatEscapeTheTargetAreRefused) {
  WriteFile(ws("a.txt"), "a");
  ASSERT_OK(Snap());
  ASSERT_OK_AND_ASSIGN(Manifest good, Latest());
  for (const char* evil : {"../escaped.txt", "/tmp/absolute.txt"}) {
    Manifest m = good;
    m.header.snapshot_id = "evil-" + std::to_string(evil[0] == '/');
    m.entries[0].path = evil;
    WriteManifest(m);
    auto loaded = Latest();
    ASSERT_FALSE(loaded.has_value());
    EXPECT_NE(loaded.error().message.find(evil), std::string::npos);
    RestoreOptions o;
    o.clock = Clock::Real();
    o.target = out();
    auto r = RestoreSnapshot(store_.get(), m, o);  // even when handed over directly
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kCorruption);
  }
  EXPECT_EQ(FileSystem::Real()->Lstat(dir_.Sub("escaped.txt")).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(FileSystem::Real()->Lstat("/tmp/absolute.txt").error().code, ErrorCode::kNotFound);
}

TEST_F(BadInputTest, SymlinkPointingOutsideIsRefusedUnlessAllowed) {
  WriteFile(ws("a.txt"), "a");
  ASSERT_EQ(::symlink("../../etc/passwd", ws("passwd").c_str()), 0);
  ASSERT_OK(Snap());
  auto r = RestoreTo(out());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("outside the target"), std::string::npos);
  EXPECT_TRUE(VisibleFiles(out()).empty());
  ASSERT_OK_AND_ASSIGN(Manifest m, Latest());
  RestoreOptions o;
  o.clock = Clock::Real();
  o.target = out();
  o.allow_external_symlinks = true;
  ASSERT_OK(RestoreSnapshot(store_.get(), m, o));
  EXPECT_EQ(*FileSystem::Real()->ReadLink(out("passwd")), "../../etc/passwd");
}

TEST_F(BadInputTest, FileThatKeepsChangingFailsTheSnapshotAndKeepsLatest) {
  WriteFile(ws("log.txt"), "v1");
  ASSERT_OK_AND_ASSIGN(SnapshotResult first, Snap());
  FaultInjectingFileSystem fs(FileSystem::Real());
  int grow = 0;
  fs.OnRead("log.txt", [&] { WriteFile(ws("log.txt"), std::string(1000 + ++grow, 'x')); });
  WriteFile(ws("log.txt"), "v2 longer");
  auto r = Snap(nullptr, &fs);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("kept changing while it was read"), std::string::npos);
  EXPECT_NE(r.error().message.find("latest unchanged"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(Manifest m, Latest());
  EXPECT_EQ(m.header.snapshot_id, first.header.snapshot_id);
}

TEST_F(BadInputTest, UnreadableFileFailsTheSnapshotNamingIt) {
  WriteFile(ws("secret.key"), "k");
  FaultInjectingFileSystem fs(FileSystem::Real());
  fs.FailOpenRead("secret.key", EACCES);
  auto r = Snap(nullptr, &fs);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(r.error().message.find("secret.key"), std::string::npos);
  EXPECT_EQ(Latest().error().code, ErrorCode::kNotFound);
}

TEST_F(BadInputTest, FullDiskFailsTheRestoreAndLeavesNoPartialFile) {
  WriteFile(ws("a.bin"), RandomBytes(1 << 20, 1));
  WriteFile(ws("b.bin"), RandomBytes(3 << 20, 2));
  ASSERT_OK(Snap());
  FaultInjectingFileSystem fs(FileSystem::Real());
  fs.SetWriteBudget(2 << 20);
  auto r = RestoreTo(out(), false, nullptr, &fs);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kResourceExhausted);
  EXPECT_NE(r.error().message.find("No space left"), std::string::npos);
  for (const std::string& name : VisibleFiles(out())) {
    EXPECT_EQ(ReadFile(out(name)), ReadFile(ws(name))) << name;  // whole or absent
  }
}

TEST_F(BadInputTest, StoreFailingMidSnapshotNeverMovesLatest) {
  WriteFile(ws("a.bin"), RandomBytes(4 << 20, 1));
  ASSERT_OK_AND_ASSIGN(SnapshotResult first, Snap());
  WriteFile(ws("a.bin"), RandomBytes(4 << 20, 2));
  // Fail each Put in turn: the lock, packs, the index, the manifest, metadata, header, the
  // pointer. Packs and index written by a failed attempt are reused by the next one.
  int failures = 0;
  for (int nth = 1; nth <= 12; ++nth) {
    FaultInjectingStore failing(store_.get());
    failing.FailCall(StoreOp::kPut, nth, UnavailableError("injected 503 from the store"));
    auto r = Snap(&failing);
    ASSERT_OK_AND_ASSIGN(Manifest latest, Latest());
    if (r.has_value()) break;
    ++failures;
    EXPECT_NE(r.error().message.find("injected 503"), std::string::npos);
    EXPECT_EQ(latest.header.snapshot_id, first.header.snapshot_id) << "after failing Put " << nth;
  }
  EXPECT_GE(failures, 6);
  ASSERT_OK(RestoreTo(out()));
  EXPECT_EQ(ReadFile(out("a.bin")), ReadFile(ws("a.bin")));
}

}  // namespace
}  // namespace standby
