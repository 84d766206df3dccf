#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "remote/agent_protocol.h"
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
  std::set<std::string> readable_keys;  // kReadSnapshot: the snapshot's pack keys
};

// Signs S3 operations for one job after checking each against its scope. Immutable objects
// (packs, indexes, locks) may only be created, never overwritten: a PUT is signed only while
// the object does not exist. Thread-safe.
class StoreGrants {
 public:
  static constexpr std::chrono::seconds kValidity{900};
  // Grants sent with a restore's job: it may read its packs for longer than one exchange.
  static constexpr std::chrono::seconds kInAdvanceValidity{3600};

  StoreGrants(std::unique_ptr<S3ObjectStore> signer, GrantScope scope)
      : signer_(std::move(signer)), scope_(std::move(scope)) {}

  // The grant for `op`, or kPermissionDenied saying what was refused and why.
  Result<QueryParams> Authorize(const S3Operation& op);
  // Grants for every object a kReadSnapshot job reads, to send with the job.
  Result<std::vector<ObjectGrant>> GrantsInAdvance();

  const GrantScope& scope() const { return scope_; }
  S3ObjectStore* store() const { return signer_.get(); }

 private:
  Status Check(const S3Operation& op);
  Status CheckList(const S3Operation& op) const;
  Status CheckWrite(const S3Operation& op);

  std::unique_ptr<S3ObjectStore> signer_;
  GrantScope scope_;
  std::mutex mu_;
  std::set<std::string> writing_;  // keys this job was allowed to create
};

// The scope of `job` (its command and instance), with a restore's snapshot resolved and
// its packs listed from the manifest, read with `signer`'s credentials.
Result<GrantScope> ScopeForJob(S3ObjectStore* signer, AgentJob* job);

}  // namespace standby
