#include "store/store_config.h"

#include <algorithm>

namespace standby {

Result<StoreSettings> StoreSettingsFromConfig(const Config& c, Clock* clock) {
  StoreSettings settings;
  settings.clock = clock;
  settings.s3_endpoint = c.GetOr("s3.endpoint", "");
  settings.s3_region = c.GetOr("s3.region", "us-east-1");
  if (c.Get("s3.path_style")) {
    ASSIGN_OR_RETURN(bool path_style, c.GetBool("s3.path_style"));
    settings.s3_path_style = path_style;
  }
  ASSIGN_OR_RETURN(uint64_t concurrency, c.GetUint("s3.concurrency"));
  settings.concurrency = std::clamp<uint64_t>(concurrency, 1, 256);
  ASSIGN_OR_RETURN(uint64_t request_timeout, c.GetUint("s3.request_timeout_seconds"));
  ASSIGN_OR_RETURN(uint64_t list_timeout, c.GetUint("s3.list_timeout_seconds"));
  if (request_timeout < 1 || list_timeout < 1)
    return InvalidArgumentError("S3 timeouts must be ≥ 1 s");
  settings.request_timeout = std::chrono::seconds(request_timeout);
  settings.list_timeout = std::chrono::seconds(list_timeout);
  if (c.Get("b2.key_id") || c.Get("b2.application_key")) {
    settings.credentials = {c.GetOr("b2.key_id", ""), c.GetOr("b2.application_key", ""), ""};
  } else {
    settings.credentials = {c.GetOr("aws.access_key_id", ""), c.GetOr("aws.secret_access_key", ""),
                            c.GetOr("aws.session_token", "")};
  }
  return settings;
}

Result<std::unique_ptr<ObjectStore>> OpenConfiguredStore(const Config& config, Clock* clock) {
  std::string repo = config.GetOr("repo", "");
  if (repo.empty()) {
    return InvalidArgumentError("no repository given: pass --repo or set STANDBY_REPO");
  }
  ASSIGN_OR_RETURN(StoreSettings settings, StoreSettingsFromConfig(config, clock));
  return OpenObjectStore(repo, settings);
}

}  // namespace standby
