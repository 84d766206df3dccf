#include "remote/store_access.h"

namespace standby {

Status AddStoreAccess(const StoreAccess& access, AgentJob* job) {
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
  job->access_key_id = s.credentials.access_key_id;
  job->secret_access_key = s.credentials.secret_access_key;
  job->session_token = s.credentials.session_token;
  job->concurrency = s.concurrency;
  ASSIGN_OR_RETURN(auto resolved, ResolveStoreHost(repo, s));
  if (resolved) {
    job->s3_host = resolved->first;
    job->s3_addresses = resolved->second;
  }
  return OkStatus();
}

}  // namespace standby
