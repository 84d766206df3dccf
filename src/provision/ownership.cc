#include "provision/ownership.h"

#include "base/log.h"

namespace standby {

Result<std::set<std::string>> OwnedInstances(StateStore* state, const std::string& provider) {
  ASSIGN_OR_RETURN(auto rows, state->ListProviderInstances());
  std::set<std::string> owned;
  for (const ProviderInstanceRow& row : rows) {
    if (row.provider == provider && row.destroyed_at == 0) owned.insert(row.provider_instance_id);
  }
  return owned;
}

bool DestroyAndConfirm(Provider* provider, StateStore* state, const std::string& id, Clock* clock,
                       int attempts, std::chrono::milliseconds poll) {
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) clock->SleepFor(poll);
    Status destroyed = provider->Destroy(id);
    if (!destroyed) {
      spdlog::warn("destroying instance {} failed: {}", id, destroyed.error().message);
      continue;
    }
    auto still = provider->Get(id);
    if (!still && still.error().code == ErrorCode::kNotFound) {
      state->MarkProviderInstanceDestroyed(provider->Name(), id, NowMillis(clock)).IgnoreError();
      return true;
    }
  }
  return false;
}

Status DestroyInstance(Provider* provider, StateStore* state, const std::string& id, Clock* clock) {
  auto existing = provider->Get(id);
  if (!existing) {
    if (existing.error().code == ErrorCode::kNotFound) {
      state->MarkProviderInstanceDestroyed(provider->Name(), id, NowMillis(clock)).IgnoreError();
      return NotFoundError("instance " + id + " not found on " + provider->Name() +
                           "; already gone?");
    }
    return existing.error();
  }
  if (!DestroyAndConfirm(provider, state, id, clock)) {
    return UnavailableError("instance " + id + " still exists after destroy; run it again");
  }
  return OkStatus();
}

Result<ReapResult> ReapUnowned(Provider* provider, StateStore* state,
                               const std::string& label_prefix, std::chrono::seconds grace,
                               Clock* clock) {
  ASSIGN_OR_RETURN(auto owned, OwnedInstances(state, provider->Name()));
  ASSIGN_OR_RETURN(ReapResult reaped, ReapOrphans(provider, label_prefix, owned, grace, clock));
  for (const std::string& id : reaped.destroyed) {
    state->MarkProviderInstanceDestroyed(provider->Name(), id, NowMillis(clock)).IgnoreError();
  }
  return reaped;
}

}  // namespace standby
