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
                       int attempts, std::chrono::milliseconds poll, std::string* detail) {
  std::string last = "still listed after destroy";
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) clock->SleepFor(poll);
    Status destroyed = provider->Destroy(id);
    if (!destroyed) {
      last = "destroy failed: " + destroyed.error().message;
      spdlog::warn("destroying instance {} failed: {}", id, destroyed.error().message);
      continue;
    }
    auto still = provider->Get(id);
    if (!still && still.error().code == ErrorCode::kNotFound) {
      if (state != nullptr) {
        state->MarkProviderInstanceDestroyed(provider->Name(), id, NowMillis(clock)).IgnoreError();
      }
      return true;
    }
  }
  if (detail != nullptr) *detail = last;
  return false;
}

Result<DestroyOutcome> DestroyInstance(Provider* provider, StateStore* state, const std::string& id,
                                       Clock* clock, Instance* seen) {
  auto existing = provider->Get(id);
  if (!existing) {
    if (existing.error().code != ErrorCode::kNotFound) return existing.error();
    state->MarkProviderInstanceDestroyed(provider->Name(), id, NowMillis(clock)).IgnoreError();
    return DestroyOutcome::kAlreadyGone;
  }
  if (seen != nullptr) *seen = *existing;
  if (!DestroyAndConfirm(provider, state, id, clock)) {
    return UnavailableError("instance " + id + " still exists after destroy; run it again");
  }
  return DestroyOutcome::kDestroyed;
}

Result<ReapResult> ReapUnowned(Provider* provider, StateStore* state,
                               const std::string& label_prefix, std::chrono::seconds grace,
                               Clock* clock) {
  ASSIGN_OR_RETURN(auto owned, OwnedInstances(state, provider->Name()));
  // What it destroys has no ownership row to end: it is not owned.
  return ReapOrphans(provider, label_prefix, owned, grace, clock);
}

}  // namespace standby
