#include "failover/protected_rows.h"

namespace standby {

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
