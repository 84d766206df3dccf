// Each bad input of the issue: a clear error, a non-zero outcome, nothing stored lost,
// `latest` never moved by a failed snapshot, no wrong content under a final name.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>

#include "base/strings.h"
#include "env/fault_injecting_file_system.h"
#include "snapshot/compression.h"
#include "snapshot/pack.h"
#include "snapshot/test_fixture.h"
#include "store/fault_injecting_store.h"
#include "testing/memory_probe.h"

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
  EXPECT_NE(r.error().message.find(" of w.bin (at byte "), std::string::npos) << r.error().message;
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

// A hostile repository (written by a rented host): bombs and lies are refused before
// anything is allocated for them.
TEST_F(BadInputTest, AManifestBombIsRefusedBeforeItIsInflated) {
  WriteFile(ws("a.txt"), "a");
  ASSERT_OK_AND_ASSIGN(SnapshotResult s, Snap());
  // 256 MiB of one repeated byte compresses to a few KiB.
  std::string bomb = CompressObject(std::string(256ULL << 20, ' '));
  ASSERT_LT(bomb.size(), 1u << 20);
  ASSERT_OK(store_->Put(SnapshotPrefix("gpu-1", s.header.snapshot_id) + "manifest", bomb));
  auto m = Latest();
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kCorruption);
  EXPECT_NE(m.error().message.find("implausible size"), std::string::npos) << m.error().message;
}

// A reference bomb: a manifest within the decompression bounds (4 MiB of poorly compressible
// padding lets it inflate to 130 MB) whose one file lists its chunk 60 million times. Counted
// as parsed, it is refused after 2^20 references, well within a stated memory bound (without
// the count the parse took well over a gigabyte: a JSON node and an index per reference).
TEST_F(BadInputTest, AReferenceBombIsRefusedWithinBoundedMemory) {
  WriteFile(ws("a.bin"), RandomBytes(100000, 5));
  ASSERT_OK_AND_ASSIGN(SnapshotResult s, Snap());
  ASSERT_OK_AND_ASSIGN(Manifest m, Latest());
  ManifestEntry bomb = m.entries.back();
  ASSERT_EQ(bomb.type, FileType::kRegular);
  ASSERT_FALSE(bomb.chunks.empty());
  bomb.path = HexEncode(RandomBytes(4 << 20, 9));  // 8 MiB of hex: a 4 MiB frame may inflate
  bomb.chunks.assign(60'000'000, bomb.chunks.front());
  bomb.size = bomb.chunks.size() * m.chunks[bomb.chunks.front()].raw_length;
  m.entries.push_back(std::move(bomb));
  const std::string frame = CompressObject(SerializeManifest(m));
  m = Manifest();  // the test's own copy is gone before the measure
  ASSERT_OK(store_->Put(SnapshotPrefix("gpu-1", s.header.snapshot_id) + "manifest", frame));
  ASSERT_OK_AND_ASSIGN(auto repo, Repository::Open(store_.get(), false));
  auto refused = repo->LoadManifest("gpu-1", s.header.snapshot_id);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kCorruption);
  EXPECT_NE(refused.error().message.find("more than 1048576 chunks"), std::string::npos)
      << refused.error().message;
  ASSERT_OK_AND_ASSIGN(uint64_t growth, PeakMemoryGrowthInChild([&] {
                         repo->LoadManifest("gpu-1", s.header.snapshot_id).IgnoreError();
                       }));
#if defined(__SANITIZE_ADDRESS__)
  const uint64_t bound = 1200ull << 20;  // ASan's shadow and quarantine roughly double it
#else
  const uint64_t bound = 600ull << 20;
#endif
  EXPECT_LT(growth, bound) << "the refused manifest cost " << (growth >> 20) << " MiB";
}

TEST_F(BadInputTest, ChunkLengthsBeyondTheChunkerAreRefused) {
  WriteFile(ws("a.bin"), RandomBytes(100000, 5));
  ASSERT_OK(Snap());
  ASSERT_OK_AND_ASSIGN(Manifest good, Latest());
  Manifest huge = good;
  huge.header.snapshot_id = "huge";
  huge.chunks[0].raw_length = 0xffffffffu;  // 4 GiB, which a restore would allocate
  huge.entries.back().size = 0xffffffffu;
  WriteManifest(huge);
  auto loaded = Latest();
  ASSERT_FALSE(loaded.has_value());
  EXPECT_NE(loaded.error().message.find("the chunker's maximum"), std::string::npos)
      << loaded.error().message;
  Manifest wrapping = good;
  wrapping.chunks[0].offset = ~uint64_t{0} - 10;  // offset + length would wrap
  EXPECT_EQ(ValidateManifest(wrapping).error().code, ErrorCode::kCorruption);
}

TEST_F(BadInputTest, ASymlinkThroughAnotherSymlinkIsRefused) {
  WriteFile(ws("a.txt"), "a");
  // Lexically inside, but self/.. is the target's parent once self -> . exists.
  ASSERT_EQ(::symlink(".", ws("self").c_str()), 0);
  ASSERT_EQ(::symlink("self/..", ws("esc").c_str()), 0);
  ASSERT_OK(Snap());
  auto r = RestoreTo(out());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("esc -> self/.."), std::string::npos) << r.error().message;
  EXPECT_TRUE(VisibleFiles(out()).empty());
  ASSERT_OK_AND_ASSIGN(Manifest m, Latest());
  std::unordered_set<std::string_view> links;  // the snapshot's symlinks
  for (const ManifestEntry& e : m.entries) {
    if (e.type == FileType::kSymlink) links.insert(e.path);
  }
  ASSERT_EQ(links.size(), 2u);
  EXPECT_TRUE(SymlinkStaysInside("self", ".", links));
  EXPECT_FALSE(SymlinkStaysInside("esc", "self/..", links));
  EXPECT_TRUE(SymlinkStaysInside("esc", "self/..")) << "lexically inside";
  EXPECT_TRUE(SymlinkStaysInside("x", "a.txt", links));
  EXPECT_TRUE(SymlinkStaysInside("x", "self", links)) << "ending at a link is fine";
}

TEST_F(BadInputTest, SetuidAndSetgidBitsAreClearedUnlessKept) {
  WriteFile(ws("tool"), "#!/bin/sh\n");
  ASSERT_EQ(::chmod(ws("tool").c_str(), 06755), 0);
  ASSERT_OK(Snap());
  ASSERT_OK_AND_ASSIGN(Manifest m, Latest());
  RestoreOptions o;
  o.clock = Clock::Real();
  o.target = out();
  ASSERT_OK_AND_ASSIGN(RestoreResult r, RestoreSnapshot(store_.get(), m, o));
  EXPECT_EQ(r.validation, Validation::kOk);
  EXPECT_EQ(FileSystem::Real()->Lstat(out("tool"))->mode, 0755u);
  o.target = dir_.Sub("kept");
  o.keep_special_bits = true;
  ASSERT_OK(RestoreSnapshot(store_.get(), m, o));
  EXPECT_EQ(FileSystem::Real()->Lstat(dir_.Sub("kept/tool"))->mode, 06755u);
}

}  // namespace
}  // namespace standby
