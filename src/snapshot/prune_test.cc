#include <gtest/gtest.h>

#include "snapshot/lock.h"
#include "snapshot/pruner.h"
#include "snapshot/repository.h"
#include "snapshot/test_fixture.h"
#include "snapshot/verifier.h"

namespace standby {
namespace {

class PruneTest : public SnapshotFixture {
 protected:
  size_t PackCount() { return ListAll(store_.get(), "packs/")->size(); }
};

TEST_F(PruneTest, KeepsTheNewestAndCollectsUnreferencedPacks) {
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    WriteFile(ws("checkpoint.bin"), RandomBytes(2 << 20, 100 + i));  // replaced wholesale
    WriteFile(ws("weights.bin"), RandomBytes(1 << 20, 1));           // stable
    ASSERT_OK_AND_ASSIGN(SnapshotResult r, Snap());
    ids.push_back(r.header.snapshot_id);
  }
  size_t before = PackCount();
  PruneOptions o;
  o.clock = Clock::Real();
  o.instance_id = "gpu-1";
  o.keep_last = 2;
  ASSERT_OK_AND_ASSIGN(PruneResult r, PruneSnapshots(store_.get(), o));
  EXPECT_EQ(r.removed, (std::vector<std::string>{ids[0], ids[1]}));
  EXPECT_EQ(r.kept, (std::vector<std::string>{ids[2], ids[3]}));
  EXPECT_GT(r.packs_deleted, 0u);
  EXPECT_GT(r.bytes_freed, 3u << 20);
  EXPECT_LT(PackCount(), before);
  // What is left is complete and restorable.
  ASSERT_OK_AND_ASSIGN(auto repo, Repository::Open(store_.get(), false));
  for (const std::string& id : r.kept) {
    ASSERT_OK_AND_ASSIGN(Manifest m, repo->LoadManifest("gpu-1", id));
    ASSERT_OK_AND_ASSIGN(DataVerification v, VerifySnapshotData(store_.get(), m));
    EXPECT_TRUE(v.problems.empty()) << v.problems.front();
  }
  ASSERT_OK(RestoreTo(out()));
  EXPECT_EQ(ReadFile(out("checkpoint.bin")), RandomBytes(2 << 20, 103));
  // A later snapshot still deduplicates against the rewritten index.
  ASSERT_OK_AND_ASSIGN(SnapshotResult next, Snap());
  EXPECT_EQ(next.header.bytes_uploaded, 0u);
}

TEST_F(PruneTest, NeverTouchesAnotherInstancesData) {
  WriteFile(ws("shared.bin"), RandomBytes(1 << 20, 5));
  ASSERT_OK(Snap());
  SnapshotOptions other = Options();
  other.instance_id = "gpu-2";
  ASSERT_OK(CreateSnapshot(store_.get(), other));
  WriteFile(ws("shared.bin"), RandomBytes(1 << 20, 6));
  ASSERT_OK(Snap());
  PruneOptions o;
  o.clock = Clock::Real();
  o.instance_id = "gpu-1";
  o.keep_last = 1;
  ASSERT_OK_AND_ASSIGN(PruneResult r, PruneSnapshots(store_.get(), o));
  EXPECT_EQ(r.removed.size(), 1u);
  EXPECT_GE(r.packs_deleted, 1u);  // gpu-1's first version, in gpu-1's own packs
  ASSERT_OK_AND_ASSIGN(auto repo, Repository::Open(store_.get(), false));
  ASSERT_OK_AND_ASSIGN(auto latest, repo->ReadLatest("gpu-2"));
  ASSERT_OK_AND_ASSIGN(Manifest m, repo->LoadManifest("gpu-2", *latest));
  ASSERT_OK_AND_ASSIGN(DataVerification v, VerifySnapshotData(store_.get(), m));
  EXPECT_TRUE(v.problems.empty());
}

// One instance's garbage (a host writes under its own prefix) stops neither another
// instance's prune nor the listing: the damaged instance keeps every pack, and is reported.
TEST_F(PruneTest, AGarbageManifestOrHeaderOfOneInstanceDoesNotStopAnothersPrune) {
  SnapshotOptions other = Options();
  other.instance_id = "gpu-2";
  WriteFile(ws("theirs.bin"), RandomBytes(1 << 20, 7));
  ASSERT_OK_AND_ASSIGN(SnapshotResult theirs, CreateSnapshot(store_.get(), other));
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    WriteFile(ws("theirs.bin"), RandomBytes(1 << 20, 20 + i));
    ASSERT_OK_AND_ASSIGN(SnapshotResult r, Snap());
    ids.push_back(r.header.snapshot_id);
  }
  ASSERT_OK(store_->Put(SnapshotPrefix("gpu-2", theirs.header.snapshot_id) + "manifest",
                        "not a manifest"));
  ASSERT_OK(store_->Put("snapshots/gpu-2/20260101T000000Z-deadbeef/header.json", "{garbage"));
  ASSERT_OK_AND_ASSIGN(auto repo, Repository::Open(store_.get(), false));
  std::vector<UnreadableObject> unreadable;
  ASSERT_OK_AND_ASSIGN(auto listed, repo->ListSnapshots(std::nullopt, &unreadable));
  EXPECT_EQ(listed.size(), 3u);  // gpu-2's readable header, and both of gpu-1's
  ASSERT_EQ(unreadable.size(), 1u);
  EXPECT_EQ(unreadable[0].instance_id, "gpu-2");
  EXPECT_FALSE(repo->ListSnapshots(std::nullopt).has_value()) << "strict listing";

  const size_t theirs_packs = ListAll(store_.get(), "packs/gpu-2/")->size();
  PruneOptions o;
  o.clock = Clock::Real();
  o.instance_id = "gpu-1";
  o.keep_last = 1;
  ASSERT_OK_AND_ASSIGN(PruneResult r, PruneSnapshots(store_.get(), o));
  EXPECT_EQ(r.removed, std::vector<std::string>{ids[0]});
  EXPECT_GT(r.packs_deleted, 0u) << "gpu-1's dead packs are collected";
  EXPECT_EQ(ListAll(store_.get(), "packs/gpu-2/")->size(), theirs_packs);
  ASSERT_EQ(r.unreadable.size(), 2u);
  EXPECT_NE(r.unreadable[0].find("snapshots/gpu-2/"), std::string::npos) << r.unreadable[0];
  ASSERT_OK(RestoreTo(out()));
  EXPECT_EQ(ReadFile(out("theirs.bin")), RandomBytes(1 << 20, 21));
}

TEST_F(PruneTest, DeletesPacksLeftByACrashedSnapshot) {
  WriteFile(ws("a.bin"), RandomBytes(1 << 20, 5));
  ASSERT_OK(Snap());
  ASSERT_OK(store_->Put("packs/ff/" + std::string(64, 'f'), "orphan from a crash"));
  PruneOptions o;
  o.clock = Clock::Real();
  o.instance_id = "gpu-1";
  ASSERT_OK_AND_ASSIGN(PruneResult r, PruneSnapshots(store_.get(), o));
  EXPECT_EQ(r.packs_deleted, 1u);
  EXPECT_EQ(store_->Head("packs/ff/" + std::string(64, 'f')).error().code, ErrorCode::kNotFound);
}

TEST_F(PruneTest, RefusesWhileASnapshotIsBeingWritten) {
  WriteFile(ws("a.bin"), "a");
  ASSERT_OK(Snap());
  FakeClock clock;
  ASSERT_OK_AND_ASSIGN(auto writer,
                       RepoLock::Acquire(store_.get(), LockKind::kShared, "snapshot create", &clock,
                                         std::chrono::seconds(0)));
  PruneOptions o;
  o.instance_id = "gpu-1";
  o.clock = &clock;
  auto r = PruneSnapshots(store_.get(), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_EQ(ListAll(store_.get(), "packs/")->size(), 1u);
  ASSERT_OK(writer->Release());
  EXPECT_OK(PruneSnapshots(store_.get(), o));
}

TEST_F(PruneTest, KeepLastZeroIsRefused) {
  PruneOptions o;
  o.clock = Clock::Real();
  o.instance_id = "gpu-1";
  o.keep_last = 0;
  EXPECT_EQ(PruneSnapshots(store_.get(), o).error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace standby
