#include "remote/store_grants.h"

#include "snapshot/pack.h"
#include "snapshot/repository.h"

namespace standby {
namespace {

std::string Describe(const S3Operation& op) {
  std::string text = op.method + " " + (op.bucket_level ? "(bucket)" : op.key);
  for (const auto& [name, value] : op.query) text += " " + name + "=" + value;
  return text;
}

// The query names of `op`, sorted.
std::set<std::string> QueryNames(const S3Operation& op) {
  std::set<std::string> names;
  for (const auto& [name, value] : op.query) names.insert(name);
  return names;
}

// One of `instance`'s pack or index keys (PackKey, Repository::WriteIndex). Never a lock:
// the controller holds a host's snapshot lock for it (AddStoreAccess).
bool ImmutableKey(const std::string& key, const std::string& instance) {
  const auto id = Hash256::FromHex(key.substr(key.rfind('/') + 1));
  if (key.starts_with("packs/")) return id && key == PackKey(instance, *id);
  if (key.starts_with("index/")) return id && key == "index/" + instance + "/" + id->Hex();
  return false;
}

}  // namespace

Status StoreGrants::CheckList(const S3Operation& op) const {
  std::set<std::string> names = QueryNames(op);
  names.erase("continuation-token");
  if (op.method != "GET" || names != std::set<std::string>{"list-type", "max-keys", "prefix"}) {
    return PermissionDeniedError("only object listings are granted");
  }
  std::string prefix;
  for (const auto& [name, value] : op.query) {
    if (name == "prefix") prefix = value;
    if (name == "list-type" && value != "2") return PermissionDeniedError("list-type must be 2");
  }
  const std::string& repository = signer_->store()->prefix();
  if (!prefix.starts_with(repository)) {
    return PermissionDeniedError("the listing is outside the repository");
  }
  prefix.erase(0, repository.size());
  const std::string own = "snapshots/" + scope_.instance_id + "/";
  if (prefix.starts_with(own)) return OkStatus();
  if (scope_.kind == GrantScope::Kind::kWriteSnapshot &&
      prefix.starts_with("index/" + scope_.instance_id + "/")) {
    return OkStatus();
  }
  return PermissionDeniedError("listing \"" + prefix + "\" is outside this job's instance");
}

Status StoreGrants::CheckWrite(const S3Operation& op) {
  std::set<std::string> names = QueryNames(op);
  const bool put = op.method == "PUT" && names.empty();
  const bool start_multipart = op.method == "POST" && names == std::set<std::string>{"uploads"};
  const bool part = op.method == "PUT" && names == std::set<std::string>{"partNumber", "uploadId"};
  const bool finish =
      (op.method == "POST" || op.method == "DELETE") && names == std::set<std::string>{"uploadId"};
  std::lock_guard<std::mutex> lock(mu_);
  if (part || finish) {
    if (writing_.count(op.key)) return OkStatus();
    return PermissionDeniedError("no upload of this object was started by this job");
  }
  if (op.method == "DELETE" && names.empty())
    return PermissionDeniedError("deleting is not granted");
  if (!put && !start_multipart) return PermissionDeniedError("not a write this job may do");
  const std::string own = "snapshots/" + scope_.instance_id + "/";
  if (op.key.starts_with(own)) {
    writing_.insert(op.key);
    return OkStatus();
  }
  if (!ImmutableKey(op.key, scope_.instance_id)) {
    return PermissionDeniedError(
        "the object is neither this instance's snapshot, pack or index (a host writes no lock: "
        "the controller holds its job's)");
  }
  if (writing_.count(op.key)) return OkStatus();  // a retry of our own write
  auto existing = signer_->store()->Head(op.key);
  if (existing) return PermissionDeniedError("the object exists and is immutable");
  if (existing.error().code != ErrorCode::kNotFound) return existing.error();
  writing_.insert(op.key);
  return OkStatus();
}

Status StoreGrants::Check(const S3Operation& op) {
  // A repeated parameter could be read differently by the store than by these checks
  // (prefix=theirs&prefix=ours).
  if (QueryNames(op).size() != op.query.size()) {
    return PermissionDeniedError("a query parameter is repeated");
  }
  if (op.bucket_level) return CheckList(op);
  RETURN_IF_ERROR(ValidateObjectKey(op.key));
  const bool read = (op.method == "GET" || op.method == "HEAD") && op.query.empty();
  const std::string own = "snapshots/" + scope_.instance_id + "/";
  if (scope_.kind == GrantScope::Kind::kReadSnapshot) {
    if (!read) return PermissionDeniedError("a restore or verify job only reads");
    if (op.key == "config" || op.key.starts_with(own + scope_.snapshot_id + "/") ||
        scope_.readable_keys.count(op.key)) {
      return OkStatus();
    }
    return PermissionDeniedError("the object is not part of snapshot " + scope_.snapshot_id);
  }
  if (read) {
    if (op.key == "config" || op.key.starts_with(own) ||
        op.key.starts_with("index/" + scope_.instance_id + "/") ||
        op.key.starts_with("packs/" + scope_.instance_id + "/")) {
      return OkStatus();
    }
    return PermissionDeniedError(
        "a snapshot job reads only its own instance's snapshots, packs and indexes");
  }
  return CheckWrite(op);
}

Result<QueryParams> StoreGrants::Authorize(const S3Operation& op) {
  if (Status allowed = Check(op); !allowed) {
    return PermissionDeniedError("refused to grant " + Describe(op) + " to the host of instance " +
                                 scope_.instance_id + ": " + allowed.error().message);
  }
  return signer_->store()->Presign(op, kValidity);
}

Result<std::vector<ObjectGrant>> StoreGrants::GrantsInAdvance() {
  std::vector<ObjectGrant> grants;
  if (scope_.kind != GrantScope::Kind::kReadSnapshot) return grants;
  std::vector<std::string> keys = {
      "config", "snapshots/" + scope_.instance_id + "/" + scope_.snapshot_id + "/manifest"};
  keys.insert(keys.end(), scope_.readable_keys.begin(), scope_.readable_keys.end());
  for (const std::string& key : keys) {
    S3Operation op{"GET", key, false, {}};
    RETURN_IF_ERROR(Check(op));
    ASSIGN_OR_RETURN(QueryParams query, signer_->store()->Presign(op, kInAdvanceValidity));
    grants.push_back({std::move(op), std::move(query)});
  }
  return grants;
}

Result<GrantScope> RepositorySigner::ScopeForJob(AgentJob* job) {
  RETURN_IF_ERROR(ValidateInstanceId(job->instance_id));
  GrantScope scope;
  scope.instance_id = job->instance_id;
  std::lock_guard<std::mutex> lock(mu_);
  if (job->command == "snapshot") {
    scope.kind = GrantScope::Kind::kWriteSnapshot;
    if (!config_checked_) {
      // The repository's config is written here, never by a host.
      ASSIGN_OR_RETURN(auto repository, Repository::Open(store_.get(), /*create=*/true));
      (void)repository;
      config_checked_ = true;
    }
    return scope;
  }
  const bool restore = job->command == "restore";
  const std::string key = job->instance_id + "/" + job->snapshot_id;
  if (auto it = read_scopes_.find(key); !job->snapshot_id.empty() && it != read_scopes_.end()) {
    scope = it->second;
  } else {
    scope.kind = GrantScope::Kind::kReadSnapshot;
    std::optional<std::string> wanted;
    if (!job->snapshot_id.empty()) wanted = job->snapshot_id;
    ASSIGN_OR_RETURN(Manifest manifest, LoadSnapshot(store_.get(), wanted, job->instance_id));
    scope.snapshot_id = manifest.header.snapshot_id;
    for (const ChunkRef& chunk : manifest.chunks) {
      scope.readable_keys.insert(PackKey(scope.instance_id, chunk.pack));
    }
    read_scopes_[job->instance_id + "/" + scope.snapshot_id] = scope;
  }
  job->snapshot_id = scope.snapshot_id;
  if (!restore) scope.readable_keys.clear();  // a verify reads the manifest, not the packs
  return scope;
}

}  // namespace standby
