#include <gtest/gtest.h>

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
