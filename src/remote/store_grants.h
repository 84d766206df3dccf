#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "remote/agent_protocol.h"
#include "snapshot/lock.h"
#include "store/s3_object_store.h"

namespace standby {

// What one host job may do in an S3 repository (docs/design.md, "Threat model"). A rented
// host never holds a credential: the controller signs each operation it allows, for minutes.
struct GrantScope {
  enum class Kind {
    kReadSnapshot,   // restore, verify: the config, one snapshot's objects and its packs
    kWriteSnapshot,  // snapshot: new packs and indexes, its own instance's snapshots, locks
  };
  Kind kind = Kind::kReadSnapshot;
  std::string instance_id;
  std::string snapshot_id;              // kReadSnapshot
  std::set<std::string> readable_keys;  // kReadSnapshot: a restore's pack keys
};

// One repository as the controller grants from it: its signing store, opened once, and what
// it has already read to scope jobs (the config checked once; each snapshot's manifest read
// once, so a failover's restore and validation share one read). Thread-safe.
class RepositorySigner {
 public:
  explicit RepositorySigner(std::unique_ptr<S3ObjectStore> store) : store_(std::move(store)) {}

  S3ObjectStore* store() const { return store_.get(); }
  // The scope of `job` (its command and instance), with a restore's or verify's snapshot
  // resolved into job->snapshot_id and, for a restore, its packs listed from the manifest.
  Result<GrantScope> ScopeForJob(AgentJob* job);

 private:
  std::unique_ptr<S3ObjectStore> store_;
  std::mutex mu_;
  bool config_checked_ = false;
  std::map<std::string, GrantScope> read_scopes_;  // by "<instance>/<snapshot>"
};

// Signs S3 operations for one job after checking each against its scope. Immutable objects
// (packs, indexes, locks) may only be created, never overwritten: a PUT is signed only while
// the object does not exist. Thread-safe.
class StoreGrants {
 public:
  static constexpr std::chrono::seconds kValidity{900};
  // Grants sent with a restore's job: it may read its packs for longer than one exchange.
  static constexpr std::chrono::seconds kInAdvanceValidity{3600};

  StoreGrants(std::shared_ptr<RepositorySigner> signer, GrantScope scope)
      : signer_(std::move(signer)), scope_(std::move(scope)) {}

  // The grant for `op`, or kPermissionDenied saying what was refused and why.
  Result<QueryParams> Authorize(const S3Operation& op);
  // Grants for every object a kReadSnapshot job reads, to send with the job.
  Result<std::vector<ObjectGrant>> GrantsInAdvance();

  const GrantScope& scope() const { return scope_; }
  // Keeps `lock` (taken for the job) until these grants end with the job.
  void HoldLock(std::unique_ptr<RepoLock> lock) { lock_ = std::move(lock); }

 private:
  Status Check(const S3Operation& op);
  Status CheckList(const S3Operation& op) const;
  Status CheckWrite(const S3Operation& op);

  std::shared_ptr<RepositorySigner> signer_;
  GrantScope scope_;
  std::mutex mu_;
  std::set<std::string> writing_;  // keys this job was allowed to create
  std::unique_ptr<RepoLock> lock_;
};

}  // namespace standby
