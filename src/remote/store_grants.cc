#include "remote/store_grants.h"

#include <cctype>

#include "snapshot/pack.h"
#include "snapshot/repository.h"

namespace standby {
namespace {

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

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

// A single path segment of a repository key: 1–128 of [A-Za-z0-9._-], not "." or "..".
bool Segment(const std::string& s) {
  if (s.empty() || s.size() > 128 || s == "." || s == "..") return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
      return false;
  }
  return true;
}

// "packs/<instance>/<h2>/<64 hex>", "index/<instance>/<64 hex>" (of `instance`), or
// "locks/<hex>".
bool ImmutableKey(const std::string& key, const std::string& instance) {
  auto hex = [](const std::string& s, size_t n) {
    return s.size() == n && s.find_first_not_of("0123456789abcdef") == std::string::npos;
  };
  const std::string packs = "packs/" + instance + "/", index = "index/" + instance + "/";
  if (StartsWith(key, packs)) {
    std::string rest = key.substr(packs.size());
    return rest.size() == 2 + 1 + 64 && rest[2] == '/' && hex(rest.substr(3), 64) &&
           rest.substr(0, 2) == rest.substr(3, 2);
  }
  if (StartsWith(key, index)) return hex(key.substr(index.size()), 64);
  if (StartsWith(key, "locks/")) {
    std::string name = key.substr(6);
    return !name.empty() && name.size() <= 64 &&
           name.find_first_not_of("0123456789abcdef") == std::string::npos;
  }
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
  if (!StartsWith(prefix, signer_->prefix())) {
    return PermissionDeniedError("the listing is outside the repository");
  }
  prefix.erase(0, signer_->prefix().size());
  const std::string own = "snapshots/" + scope_.instance_id + "/";
  if (StartsWith(prefix, own)) return OkStatus();
  if (scope_.kind == GrantScope::Kind::kWriteSnapshot &&
      (StartsWith(prefix, "index/" + scope_.instance_id + "/") || StartsWith(prefix, "locks/"))) {
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
  if (op.method == "DELETE" && names.empty()) {
    // Only the lock this job took.
    if (StartsWith(op.key, "locks/") && writing_.count(op.key)) return OkStatus();
    return PermissionDeniedError("deleting is not granted");
  }
  if (!put && !start_multipart) return PermissionDeniedError("not a write this job may do");
  const std::string own = "snapshots/" + scope_.instance_id + "/";
  if (StartsWith(op.key, own)) {
    writing_.insert(op.key);
    return OkStatus();
  }
  if (!ImmutableKey(op.key, scope_.instance_id)) {
    return PermissionDeniedError(
        "the object is neither this instance's snapshot, pack or index nor a lock");
  }
  if (writing_.count(op.key)) return OkStatus();  // a retry of our own write
  auto existing = signer_->Head(op.key);
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
    if (op.key == "config" || op.key == own + "latest" ||
        StartsWith(op.key, own + scope_.snapshot_id + "/") || scope_.readable_keys.count(op.key)) {
      return OkStatus();
    }
    return PermissionDeniedError("the object is not part of snapshot " + scope_.snapshot_id);
  }
  if (read) {
    if (op.key == "config" || StartsWith(op.key, own) ||
        StartsWith(op.key, "index/" + scope_.instance_id + "/") ||
        StartsWith(op.key, "packs/" + scope_.instance_id + "/") || StartsWith(op.key, "locks/")) {
      return OkStatus();
    }
    return PermissionDeniedError(
        "a snapshot job reads only its own instance's snapshots, packs and indexes, and locks");
  }
  return CheckWrite(op);
}

Result<QueryParams> StoreGrants::Authorize(const S3Operation& op) {
  if (Status allowed = Check(op); !allowed) {
    return PermissionDeniedError("refused to grant " + Describe(op) + " to the host of instance " +
                                 scope_.instance_id + ": " + allowed.error().message);
  }
  return signer_->Presign(op, kValidity);
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
    ASSIGN_OR_RETURN(QueryParams query, signer_->Presign(op, kInAdvanceValidity));
    grants.push_back({std::move(op), std::move(query)});
  }
  return grants;
}

Result<GrantScope> ScopeForJob(S3ObjectStore* signer, AgentJob* job) {
  GrantScope scope;
  scope.instance_id = job->instance_id;
  if (!Segment(scope.instance_id)) {
    return InvalidArgumentError("a host job needs a valid instance id, got \"" + scope.instance_id +
                                "\"");
  }
  if (job->command == "snapshot") {
    scope.kind = GrantScope::Kind::kWriteSnapshot;
    // The repository's config is written here, never by a host.
    ASSIGN_OR_RETURN(auto repository, Repository::Open(signer, /*create=*/true));
    (void)repository;
    return scope;
  }
  scope.kind = GrantScope::Kind::kReadSnapshot;
  std::optional<std::string> wanted;
  if (!job->snapshot_id.empty()) wanted = job->snapshot_id;
  ASSIGN_OR_RETURN(Manifest manifest, LoadSnapshot(signer, wanted, job->instance_id));
  scope.snapshot_id = manifest.header.snapshot_id;
  job->snapshot_id = scope.snapshot_id;
  for (const ChunkRef& chunk : manifest.chunks)
    scope.readable_keys.insert(PackKey(scope.instance_id, chunk.pack));
  return scope;
}

}  // namespace standby
