#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "env/clock.h"
#include "store/object_store.h"
#include "store/s3_operation.h"
#include "store/sigv4.h"

namespace standby {

// How to reach S3 when the repository is an s3:// URL.
struct StoreSettings {
  std::string s3_endpoint;  // empty: AWS for the region
  std::string s3_region = "us-east-1";
  std::optional<bool> s3_path_style;
  S3Credentials credentials;
  S3Authorizer authorizer;  // instead of credentials (S3Options::authorizer)
  size_t concurrency = 16;
  std::chrono::seconds request_timeout{60};
  std::chrono::seconds list_timeout{30};
  int max_attempts = 8;  // per request, retries included (1: no retry)
  // Passed to the HTTP client (HttpClientOptions::resolved / use_system_resolver).
  std::map<std::string, std::vector<std::string>> resolved;
  bool use_system_resolver = true;
  // Required for s3:// (retry backoff, clock-skew correction): the time seam.
  Clock* clock = nullptr;
};

// For an s3:// repository, the endpoint host name and its addresses as resolved here;
// nullopt for other repositories.
Result<std::optional<std::pair<std::string, std::vector<std::string>>>> ResolveStoreHost(
    const std::string& repo, const StoreSettings& settings);

class S3ObjectStore;
// An s3://bucket/prefix repository (for its S3-only abilities, such as presigning).
Result<std::unique_ptr<S3ObjectStore>> OpenS3Store(const std::string& repo,
                                                   const StoreSettings& settings);

// Opens the store a `--repo` value names: an absolute or relative directory path,
// file:///abs/path, or s3://bucket/prefix.
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const std::string& repo,
                                                     const StoreSettings& settings = {});

}  // namespace standby
