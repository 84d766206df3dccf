#include "store/open_store.h"

#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "store/fs_object_store.h"
#include "store/s3_object_store.h"

namespace standby {

Result<std::unique_ptr<S3ObjectStore>> OpenS3Store(const std::string& repo,
                                                   const StoreSettings& settings) {
  S3Options options;
  RETURN_IF_ERROR(ParseS3Url(repo, &options));
  options.endpoint = settings.s3_endpoint;
  options.region = settings.s3_region;
  options.path_style = settings.s3_path_style;
  options.credentials = settings.credentials;
  options.authorizer = settings.authorizer;
  options.concurrency = std::max<size_t>(1, settings.concurrency);
  options.request_timeout = settings.request_timeout;
  options.list_timeout = settings.list_timeout;
  options.max_attempts = std::max(1, settings.max_attempts);
  HttpClientOptions http_options;
  http_options.resolved = settings.resolved;
  http_options.use_system_resolver = settings.use_system_resolver;
  if (settings.clock == nullptr) return InternalError("StoreSettings.clock is not set");
  auto http = MakeHttpClient(http_options);
  ASSIGN_OR_RETURN(auto store,
                   S3ObjectStore::Create(std::move(options), http.get(), settings.clock));
  store->AdoptHttpClient(std::move(http));
  return store;
}

Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const std::string& repo,
                                                     const StoreSettings& settings) {
  if (repo.empty()) {
    return InvalidArgumentError(
        "no repository given: pass --repo DIR|file:///DIR|s3://BUCKET/PREFIX"
        " or set STANDBY_REPO");
  }
  if (repo.starts_with("s3://")) {
    ASSIGN_OR_RETURN(auto store, OpenS3Store(repo, settings));
    return std::unique_ptr<ObjectStore>(std::move(store));
  }
  std::string path = repo;
  if (repo.starts_with("file://")) {
    path = repo.substr(7);
    if (path.empty() || path.front() != '/') {
      return InvalidArgumentError("file URL must be file:///absolute/path, got " + repo);
    }
  } else if (repo.find("://") != std::string::npos) {
    return InvalidArgumentError("unknown repository scheme in " + repo +
                                " (expected a directory, file:/// or s3://)");
  }
  if (path.front() != '/') {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof(cwd)) == nullptr) return ErrnoError(errno, "getcwd");
    path = std::string(cwd) + "/" + path;
  }
  ASSIGN_OR_RETURN(auto store, FsObjectStore::Create(path));
  return std::unique_ptr<ObjectStore>(std::move(store));
}

Result<std::optional<std::pair<std::string, std::vector<std::string>>>> ResolveStoreHost(
    const std::string& repo, const StoreSettings& settings) {
  if (!repo.starts_with("s3://")) return std::nullopt;
  S3Options options;
  RETURN_IF_ERROR(ParseS3Url(repo, &options));
  options.endpoint = settings.s3_endpoint;
  options.region = settings.s3_region;
  options.path_style = settings.s3_path_style;
  ASSIGN_OR_RETURN(std::string host, S3ConnectHost(options));
  ASSIGN_OR_RETURN(std::vector<std::string> addresses, ResolveHost(host));
  return std::make_pair(host, addresses);
}

}  // namespace standby
