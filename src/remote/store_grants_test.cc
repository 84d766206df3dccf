// What a host job may do in an S3 repository: the controller's checks before it signs,
// against a real S3 server (s3rver on loopback) holding real snapshots.
#include "remote/store_grants.h"

#include <gtest/gtest.h>

#include "base/strings.h"
#include "remote/store_access.h"
#include "snapshot/lock.h"
#include "snapshot/pack.h"
#include "snapshot/repository.h"
#include "snapshot/snapshot_writer.h"
#include "store/open_store.h"
#include "testing/s3rver.h"
#include "testing/test_util.h"

namespace standby {
namespace {

class StoreGrantsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = SharedS3rver();
    ASSERT_NE(server_, nullptr);
    repo_ = "s3://" + server_->bucket() + "/grants-" + RandomHex(4);
    store_ = Signer();
    signer_ = std::make_shared<RepositorySigner>(Signer());
    // Two instances with one snapshot each.
    for (const std::string instance : {"gpu-1", "gpu-2"}) {
      WriteFile(dir_.Sub(instance + "/model.bin"), RandomBytes(2 << 20, instance.back()));
      SnapshotOptions options;
      options.instance_id = instance;
      options.workspace = dir_.Sub(instance);
      options.clock = Clock::Real();
      ASSERT_OK(CreateSnapshot(store_.get(), options));
    }
  }
  std::unique_ptr<S3ObjectStore> Signer() {
    StoreSettings settings;
    settings.s3_endpoint = server_->endpoint();
    settings.credentials = {"S3RVER", "S3RVER", ""};
    settings.clock = Clock::Real();
    return std::move(*OpenS3Store(repo_, settings));
  }
  // The grants a job of `command` for gpu-1 gets from `signer_`.
  std::unique_ptr<StoreGrants> Grants(const std::string& command,
                                      const std::string& snapshot_id = "") {
    AgentJob job;
    job.command = command;
    job.instance_id = "gpu-1";
    job.snapshot_id = snapshot_id;
    auto scope = signer_->ScopeForJob(&job);
    EXPECT_TRUE(scope.has_value()) << scope.error().message;
    return std::make_unique<StoreGrants>(signer_, std::move(*scope));
  }
  std::string PackOf(const std::string& instance) {  // one of its packs
    auto manifest = LoadSnapshot(store_.get(), std::nullopt, instance);
    return PackKey(instance, manifest->chunks.front().pack);
  }
  static S3Operation Op(std::string method, std::string key, QueryParams query = {}) {
    return {std::move(method), std::move(key), false, std::move(query)};
  }
  S3Operation ListOp(const std::string& prefix) {
    return {"GET",
            "",
            true,
            {{"list-type", "2"}, {"prefix", store_->prefix() + prefix}, {"max-keys", "1000"}}};
  }
  static bool Granted(StoreGrants& grants, const S3Operation& op) {
    auto query = grants.Authorize(op);
    if (query) {
      EXPECT_EQ(query->back().first, "X-Amz-Signature");
      return true;
    }
    EXPECT_EQ(query.error().code, ErrorCode::kPermissionDenied) << query.error().message;
    EXPECT_NE(query.error().message.find("refused to grant"), std::string::npos);
    return false;
  }

  S3rver* server_ = nullptr;
  TempDir dir_;
  std::string repo_;
  std::unique_ptr<S3ObjectStore> store_;
  std::shared_ptr<RepositorySigner> signer_;
};

TEST_F(StoreGrantsTest, S3_ARestoreReadsExactlyItsSnapshot) {
  auto grants = Grants("restore");
  const std::string id = grants->scope().snapshot_id;
  ASSERT_FALSE(id.empty());
  EXPECT_TRUE(Granted(*grants, Op("GET", "config")));
  EXPECT_TRUE(Granted(*grants, Op("GET", "snapshots/gpu-1/" + id + "/manifest")));
  EXPECT_TRUE(Granted(*grants, Op("GET", PackOf("gpu-1"))));
  EXPECT_FALSE(Granted(*grants, Op("GET", PackOf("gpu-2"))));
  EXPECT_FALSE(Granted(*grants, Op("GET", "snapshots/gpu-2/latest")));
  EXPECT_FALSE(Granted(*grants, Op("PUT", "snapshots/gpu-1/latest")));
  EXPECT_FALSE(Granted(*grants, Op("DELETE", PackOf("gpu-1"))));
  EXPECT_FALSE(Granted(*grants, ListOp("snapshots/")));
  EXPECT_FALSE(Granted(*grants, ListOp("packs/")));
  // Sent with the job: the config, the manifest and every pack, all GETs.
  ASSERT_OK_AND_ASSIGN(auto in_advance, grants->GrantsInAdvance());
  EXPECT_EQ(in_advance.size(), grants->scope().readable_keys.size() + 2);
  for (const ObjectGrant& g : in_advance) EXPECT_EQ(g.op.method, "GET");
}

// A host's snapshot job takes no lock of its own: the controller holds the shared lock for
// the job's lifetime (the grants'), so a prune waits for it and nothing a host wrote can block
// another instance once its job is over.
TEST_F(StoreGrantsTest, S3_TheControllerHoldsTheLockOfAHostsSnapshotJob) {
  StoreAccess access;
  access.repo = repo_;
  access.settings.s3_endpoint = server_->endpoint();
  access.settings.credentials = {"S3RVER", "S3RVER", ""};
  access.settings.clock = Clock::Real();
  AgentJob job;
  job.command = "snapshot";
  job.instance_id = "gpu-1";
  ASSERT_OK_AND_ASSIGN(auto grants, AddStoreAccess(access, &job));
  ASSERT_NE(grants, nullptr);
  EXPECT_TRUE(job.lock_held);
  ASSERT_OK_AND_ASSIGN(auto locks, ListLocks(store_.get(), Clock::Real()));
  ASSERT_EQ(locks.size(), 1u);
  EXPECT_EQ(locks[0].kind, "shared");
  EXPECT_NE(locks[0].operation.find("gpu-1"), std::string::npos) << locks[0].operation;
  auto prune = RepoLock::Acquire(store_.get(), LockKind::kExclusive, "snapshot prune",
                                 Clock::Real(), std::chrono::seconds(0));
  ASSERT_FALSE(prune.has_value());
  EXPECT_EQ(prune.error().code, ErrorCode::kConflict);
  grants.reset();  // the job is over
  ASSERT_OK_AND_ASSIGN(locks, ListLocks(store_.get(), Clock::Real()));
  EXPECT_TRUE(locks.empty());
  EXPECT_OK(RepoLock::Acquire(store_.get(), LockKind::kExclusive, "snapshot prune", Clock::Real(),
                              std::chrono::seconds(0)));
  // A restore holds none.
  AgentJob restore;
  restore.command = "restore";
  restore.instance_id = "gpu-1";
  ASSERT_OK_AND_ASSIGN(auto reading, AddStoreAccess(access, &restore));
  EXPECT_FALSE(restore.lock_held);
  EXPECT_TRUE(ListLocks(store_.get(), Clock::Real())->empty());
}

TEST_F(StoreGrantsTest, S3_ASnapshotWritesOnlyNewObjectsAndItsOwnInstance) {
  auto grants = Grants("snapshot");
  const std::string fresh_pack = "packs/gpu-1/ab/ab" + std::string(62, '0');
  EXPECT_TRUE(Granted(*grants, Op("PUT", fresh_pack)));
  EXPECT_TRUE(Granted(*grants, Op("PUT", fresh_pack)));  // a retry of its own write
  EXPECT_FALSE(Granted(*grants, Op("PUT", PackOf("gpu-2")))) << "an existing pack was overwritable";
  EXPECT_TRUE(Granted(*grants, Op("PUT", "index/gpu-1/" + std::string(64, 'c'))));
  // Another instance's names, even new ones: its packs and indexes are its own.
  EXPECT_FALSE(Granted(*grants, Op("PUT", "packs/gpu-2/ab/ab" + std::string(62, '1'))));
  EXPECT_FALSE(Granted(*grants, Op("PUT", "index/gpu-2/" + std::string(64, 'c'))));
  EXPECT_FALSE(Granted(*grants, Op("PUT", "index/" + std::string(64, 'c'))));  // format 1
  EXPECT_TRUE(Granted(*grants, Op("GET", PackOf("gpu-1"))));  // its own, to compare a collision
  EXPECT_FALSE(Granted(*grants, Op("PUT", PackOf("gpu-1")))) << "its own old pack was rewritable";
  EXPECT_TRUE(Granted(*grants, Op("PUT", "snapshots/gpu-1/20261130T000000Z-1/manifest")));
  EXPECT_TRUE(Granted(*grants, Op("PUT", "snapshots/gpu-1/latest")));
  EXPECT_FALSE(Granted(*grants, Op("PUT", "snapshots/gpu-2/latest")));
  EXPECT_FALSE(Granted(*grants, Op("GET", "snapshots/gpu-2/latest")));
  EXPECT_FALSE(Granted(*grants, Op("GET", PackOf("gpu-2"))));
  EXPECT_FALSE(Granted(*grants, Op("PUT", "config")));
  EXPECT_FALSE(Granted(*grants, Op("PUT", "packs/gpu-1/zz/not-a-pack")));
  EXPECT_FALSE(Granted(*grants, Op("DELETE", "snapshots/gpu-1/latest")));
  // Locks: none at all. A host could write an exclusive one (blocking every instance) or keep
  // one alive with grants that outlive its job; the controller holds its job's lock.
  ASSERT_OK(store_->Put("locks/0123456789abcdef", "{}"));
  EXPECT_FALSE(Granted(*grants, Op("GET", "locks/0123456789abcdef")));
  EXPECT_FALSE(Granted(*grants, Op("DELETE", "locks/0123456789abcdef")));
  EXPECT_FALSE(Granted(*grants, Op("PUT", "locks/fedcba9876543210")));
  EXPECT_FALSE(Granted(*grants, Op("DELETE", "locks/fedcba9876543210")));
  // Listings: its own indexes and instance.
  EXPECT_TRUE(Granted(*grants, ListOp("index/gpu-1/")));
  EXPECT_FALSE(Granted(*grants, ListOp("index/")));
  EXPECT_FALSE(Granted(*grants, ListOp("index/gpu-2/")));
  EXPECT_FALSE(Granted(*grants, ListOp("locks/")));
  EXPECT_TRUE(Granted(*grants, ListOp("snapshots/gpu-1/")));
  EXPECT_FALSE(Granted(*grants, ListOp("snapshots/")));
  EXPECT_FALSE(Granted(*grants, ListOp("packs/")));
  S3Operation outside = ListOp("index/gpu-1/");
  outside.query[1].second = "other-prefix/index/gpu-1/";
  EXPECT_FALSE(Granted(*grants, outside));
  // A repeated prefix could be read by the store as the other one.
  S3Operation repeated = ListOp("snapshots/gpu-1/");
  repeated.query.insert(repeated.query.begin(), {"prefix", store_->prefix() + "snapshots/gpu-2/"});
  EXPECT_FALSE(Granted(*grants, repeated));
  // Multipart: only for an object this job started writing.
  const std::string big = "snapshots/gpu-1/20261130T000000Z-2/manifest";
  EXPECT_TRUE(Granted(*grants, Op("POST", big, {{"uploads", ""}})));
  EXPECT_TRUE(Granted(*grants, Op("PUT", big, {{"partNumber", "1"}, {"uploadId", "u"}})));
  EXPECT_TRUE(Granted(*grants, Op("POST", big, {{"uploadId", "u"}})));
  EXPECT_FALSE(
      Granted(*grants, Op("PUT", PackOf("gpu-2"), {{"partNumber", "1"}, {"uploadId", "u"}})));
  EXPECT_FALSE(Granted(*grants, Op("GET", "config", {{"acl", ""}})));
}

// A verify reads the manifest only; and the jobs of one failover read it once.
TEST_F(StoreGrantsTest, S3_AVerifyGetsNoPacksAndOneSnapshotIsReadOnce) {
  auto restore = Grants("restore");
  const std::string id = restore->scope().snapshot_id;
  const uint64_t requests = signer_->store()->RequestCounters().requests;
  auto verify = Grants("verify", id);
  EXPECT_EQ(signer_->store()->RequestCounters().requests, requests)
      << "the manifest was read again";
  EXPECT_EQ(verify->scope().snapshot_id, id);
  EXPECT_TRUE(verify->scope().readable_keys.empty());
  EXPECT_FALSE(Granted(*verify, Op("GET", PackOf("gpu-1"))));
  EXPECT_TRUE(Granted(*verify, Op("GET", "snapshots/gpu-1/" + id + "/manifest")));
  ASSERT_OK_AND_ASSIGN(auto in_advance, verify->GrantsInAdvance());
  EXPECT_EQ(in_advance.size(), 2u);  // the config and the manifest
  EXPECT_FALSE(restore->scope().readable_keys.empty());
}

TEST_F(StoreGrantsTest, S3_AJobNeedsAValidInstance) {
  for (const std::string bad : {"", "..", "a/b", "gpu 1", ".hidden", "latest"}) {
    AgentJob job;
    job.command = "snapshot";
    job.instance_id = bad;
    EXPECT_EQ(signer_->ScopeForJob(&job).error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace standby
