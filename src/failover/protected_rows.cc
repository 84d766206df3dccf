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

}  // namespace standby
