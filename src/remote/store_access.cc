#include "remote/store_access.h"

#include <algorithm>

#include "snapshot/lock.h"
#include "store/s3_object_store.h"

namespace standby {

Result<std::unique_ptr<StoreGrants>> AddStoreAccess(const StoreAccess& access, AgentJob* job) {
  const std::string& repo = access.repo;
  if (repo.empty()) {
    return InvalidArgumentError("no repository given: pass --repo or set STANDBY_REPO");
  }
  if (!repo.starts_with("s3://") && !repo.starts_with("/") && !repo.starts_with("file://")) {
    return InvalidArgumentError(
        "on a host, the repository must be an absolute path, file:///… or s3://…; got " + repo);
  }
  const StoreSettings& s = access.settings;
  job->repo = repo;
  job->s3_endpoint = s.s3_endpoint;
  job->s3_region = s.s3_region;
  job->s3_path_style = s.s3_path_style;
  job->concurrency = s.concurrency;
  job->grants.clear();
  if (!repo.starts_with("s3://")) return std::unique_ptr<StoreGrants>();
  ASSIGN_OR_RETURN(auto resolved, ResolveStoreHost(repo, s));
  if (resolved) {
    job->s3_host = resolved->first;
    job->s3_addresses = resolved->second;
  }
  if (!access.signer) {
    ASSIGN_OR_RETURN(std::unique_ptr<S3ObjectStore> store, OpenS3Store(repo, s));
    access.signer = std::make_shared<RepositorySigner>(std::move(store));
  }
  ASSIGN_OR_RETURN(GrantScope scope, access.signer->ScopeForJob(job));
  auto grants = std::make_unique<StoreGrants>(access.signer, std::move(scope));
  ASSIGN_OR_RETURN(job->grants, grants->GrantsInAdvance());
  if (job->command == "snapshot") {
    // The host writes no lock: it could write an exclusive one, or keep one alive with grants
    // that outlive its job. The controller holds the snapshot's shared lock for the job.
    // Waited for here, before the job runs, where no watchdog can cut it short: at most
    // kHostLockWait (a prune holds the repository for seconds; the snapshot is retried).
    const auto wait = std::min(std::chrono::seconds(job->lock_wait_seconds), kHostLockWait);
    ASSIGN_OR_RETURN(
        auto lock,
        RepoLock::Acquire(access.signer->store(), LockKind::kShared,
                          "snapshot create on a host of " + job->instance_id, s.clock, wait));
    grants->HoldLock(std::move(lock));
    job->lock_held = true;
  }
  return grants;
}

}  // namespace standby
