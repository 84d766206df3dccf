#include "failover/protected_rows.h"

#include "failover/protection_spec.h"

namespace standby {

namespace {

// A repository as ObjectStore::Url() names it: "file:///abs" for a directory, no trailing '/'.
std::string RepoUrl(std::string repo) {
  if (repo.starts_with("/")) repo = "file://" + repo;
  while (repo.size() > 1 && repo.back() == '/') repo.pop_back();
  return repo;
}

}  // namespace

SnapshotRow SnapshotRowOf(const SnapshotReport& snap, const std::string& instance_id,
                          int64_t created_at_ms) {
  return {snap.snapshot_id, instance_id,        snap.snapshot_type, snap.base_snapshot_id,
          snap.files_total, snap.files_changed, snap.bytes_total,   snap.bytes_uploaded,
          created_at_ms,    snap.compression,   snap.duration_ms};
}

Status RecordSnapshotTaken(ControllerContext* ctx, const SnapshotRow& row,
                           const std::optional<std::string>& hand_repo_url) {
  Status recorded = ctx->state->RecordSnapshot(row);  // the row below does not depend on it
  auto updated = UpdateProtectedRow(ctx, row.instance_id, [&](ProtectedInstance& p) {
    if (p.last_snapshot_at > row.created_at) return false;  // a newer one was recorded
    if (hand_repo_url) {
      auto spec = SpecFromJson(p.spec_json);
      if (!spec || RepoUrl(spec->repo) != RepoUrl(*hand_repo_url)) return false;
    } else {
      p.consecutive_snapshot_failures = 0;
    }
    p.last_snapshot_id = row.snapshot_id;
    p.last_snapshot_at = row.created_at;
    return true;
  });
  if (!updated) return updated.error();
  return recorded;
}

Result<std::optional<ProtectedInstance>> UpdateProtectedRow(
    ControllerContext* ctx, const std::string& name,
    const std::function<bool(ProtectedInstance&)>& change) {
  Error last = ConflictError("protected instance " + name + " kept changing under us", true);
  for (int attempt = 0; attempt < 8; ++attempt) {
    ASSIGN_OR_RETURN(auto current, ctx->state->GetProtectedInstance(name));
    if (!current) return std::optional<ProtectedInstance>();
    ProtectedInstance p = *current;
    if (!change(p)) return std::optional<ProtectedInstance>();
    p.updated_at = NowMillis(ctx->clock);
    auto version = ctx->state->UpdateProtectedInstance(p);
    if (version) {
      p.version = *version;
      return std::optional<ProtectedInstance>(std::move(p));
    }
    if (version.error().code != ErrorCode::kConflict) return version.error();
    last = version.error();
  }
  return last;
}

namespace {

HostAddress Address(const std::string& user, const std::string& default_user,
                    const std::string& host, int port, const std::string& pin) {
  return {user.empty() ? default_user : user, host, static_cast<uint16_t>(port), pin};
}

}  // namespace

HostAddress HostOf(const ProtectedInstance& row, const std::string& default_user) {
  return Address(row.ssh_user, default_user, row.ssh_host, row.ssh_port, row.provider_instance_id);
}

HostAddress OriginalHostOf(const FailoverEvent& e, const std::string& default_user) {
  return Address(e.original_ssh_user, default_user, e.original_ssh_host, e.original_ssh_port,
                 e.original_instance_id);
}

HostAddress NewHostOf(const FailoverEvent& e, const std::string& default_user) {
  return Address(e.new_ssh_user, default_user, e.new_ssh_host, e.new_ssh_port, e.new_instance_id);
}

}  // namespace standby
