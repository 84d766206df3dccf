#include <gtest/gtest.h>
#include <sys/stat.h>

#include "snapshot/pack.h"
#include "snapshot/test_fixture.h"
#include "snapshot/verifier.h"
#include "store/fault_injecting_store.h"

namespace standby {
namespace {

class VerifyTest : public SnapshotFixture {};

TEST_F(VerifyTest, NamesEveryKindOfMismatch) {
  MakeWorkspace();
  ASSERT_OK(Snap());
  ASSERT_OK(RestoreTo(out()));
  ASSERT_OK_AND_ASSIGN(Manifest m, Latest());
  // Same size, different byte: only a content hash catches it.
  std::string weights = ReadFile(out("models/model.safetensors"));
  weights[weights.size() / 2] ^= 1;
  WriteFile(out("models/model.safetensors"), weights);
  ASSERT_EQ(::unlink(out("models/config.json").c_str()), 0);
  ASSERT_EQ(::chmod(out("run.sh").c_str(), 0600), 0);
  WriteFile(out("data/train.txt"), "short");
  WriteFile(out("surprise.txt"), "extra");
  ASSERT_OK_AND_ASSIGN(DirectoryVerification v, VerifyDirectory(m, out(), FileSystem::Real()));
  EXPECT_EQ(v.validation, Validation::kFailed);
  EXPECT_EQ(v.files_expected, 5u);
  EXPECT_EQ(v.files_restored, 1u);  // only empty.txt is still right
  std::map<std::string, std::string> problems;
  for (const Mismatch& mm : v.mismatches) problems[mm.path] = mm.problem;
  EXPECT_EQ(problems["models/model.safetensors"], "content");
  EXPECT_EQ(problems["models/config.json"], "missing");
  EXPECT_EQ(problems["run.sh"], "mode");
  EXPECT_EQ(problems["data/train.txt"], "size");
  EXPECT_EQ(v.extra, std::vector<std::string>{"surprise.txt"});
}

// A restore clears setuid and setgid unless told to keep them; validation agrees with it, so
// a workspace holding a setuid file fails over (it failed validation after the old host was
// destroyed). A special bit the snapshot never had is still a mismatch.
TEST_F(VerifyTest, AFaithfulRestoreOfSetuidAndSetgidEntriesValidates) {
  MakeWorkspace();
  ASSERT_EQ(::chmod(ws("run.sh").c_str(), 04755), 0);
  ASSERT_EQ(::chmod(ws("outputs").c_str(), 02700), 0);
  ASSERT_OK(Snap());
  ASSERT_OK_AND_ASSIGN(Manifest m, Latest());
  ASSERT_OK_AND_ASSIGN(RestoreResult restored, RestoreTo(out()));
  EXPECT_EQ(restored.validation, Validation::kOk);
  struct stat st;
  ASSERT_EQ(::stat(out("run.sh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_OK_AND_ASSIGN(DirectoryVerification cleared,
                       VerifyDirectory(m, out(), FileSystem::Real()));
  EXPECT_EQ(cleared.validation, Validation::kOk) << cleared.mismatches.size();
  ASSERT_EQ(::chmod(out("run.sh").c_str(), 04755), 0);  // as --keep-special-bits leaves it
  ASSERT_OK_AND_ASSIGN(DirectoryVerification kept, VerifyDirectory(m, out(), FileSystem::Real()));
  EXPECT_EQ(kept.validation, Validation::kOk);
  ASSERT_EQ(::chmod(out("empty.txt").c_str(), 04644), 0);
  ASSERT_OK_AND_ASSIGN(DirectoryVerification added, VerifyDirectory(m, out(), FileSystem::Real()));
  EXPECT_EQ(added.validation, Validation::kFailed);
  ASSERT_EQ(added.mismatches.size(), 1u);
  EXPECT_EQ(added.mismatches[0].path, "empty.txt");
  EXPECT_EQ(added.mismatches[0].problem, "mode");
}

TEST_F(VerifyTest, SnapshotDataCheckFindsDamagedAndMissingPacks) {
  MakeWorkspace();
  ASSERT_OK(Snap());
  ASSERT_OK_AND_ASSIGN(Manifest m, Latest());
  ASSERT_OK_AND_ASSIGN(DataVerification good, VerifySnapshotData(store_.get(), m));
  EXPECT_TRUE(good.problems.empty());
  EXPECT_EQ(good.chunks_checked, m.chunks.size());

  FaultInjectingStore flipped(store_.get());
  flipped.CorruptGets("packs/");
  ASSERT_OK_AND_ASSIGN(DataVerification bad, VerifySnapshotData(&flipped, m));
  EXPECT_FALSE(bad.problems.empty());
  EXPECT_NE(bad.problems.front().find("damaged"), std::string::npos);

  ASSERT_OK(store_->Delete(PackKey(m.header.instance_id, m.chunks.front().pack)));
  ASSERT_OK_AND_ASSIGN(DataVerification missing, VerifySnapshotData(store_.get(), m));
  ASSERT_FALSE(missing.problems.empty());
  EXPECT_NE(missing.problems.front().find("missing"), std::string::npos);
}

}  // namespace
}  // namespace standby
