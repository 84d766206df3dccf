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

Status DestroyAndConfirm(Provider* provider, StateStore* state, const std::string& id, Clock* clock,
                         const DestroyOptions& options) {
  std::string last = "still listed after destroy";
  for (int attempt = 0; attempt < std::max(1, options.attempts); ++attempt) {
    if (attempt > 0) clock->SleepFor(options.poll);
    Status destroyed = provider->Destroy(id);
    if (!destroyed) {
      last = "destroy failed: " + destroyed.error().message;
      spdlog::warn("destroying instance {} failed: {}", id, destroyed.error().message);
      continue;
    }
    auto still = provider->Get(id);
    if (!still && still.error().code == ErrorCode::kNotFound) {
      if (state != nullptr) {
        // A row left without destroyed_at only keeps a gone machine "owned": harmless, and
        // the next pending retry (or `reap`) ends it.
        state->MarkProviderInstanceDestroyed(provider->Name(), id, NowMillis(clock)).IgnoreError();
      }
      return OkStatus();
    }
    if (!still) last = "cannot confirm the destroy: " + still.error().message;
  }
  std::string pending = "instance " + id + " is not confirmed destroyed (" + last + ")";
  if (state != nullptr) {
    Status marked = state->MarkProviderInstanceDestroyPending(
        provider->Name(), id, options.instance_id, NowMillis(clock), last);
    if (marked) {
      pending += "; destroy pending, retried until the provider confirms";
    } else {
      spdlog::error("instance {}: cannot record its pending destroy ({}); the reaper will find it",
                    id, marked.error().message);
      pending += "; recording the pending destroy failed: the reaper will remove it";
    }
  }
  // The caller says it (a command's one error line, the controller's decision line).
  return UnavailableError(pending);
}

Result<PendingDestroys> RetryPendingDestroys(Provider* provider, StateStore* state, Clock* clock) {
  ASSIGN_OR_RETURN(auto rows, state->ListProviderInstances());
  PendingDestroys out;
  for (const ProviderInstanceRow& row : rows) {
    if (row.provider != provider->Name() || row.destroyed_at != 0 || row.destroy_pending_at == 0) {
      continue;
    }
    Status done = DestroyAndConfirm(provider, state, row.provider_instance_id, clock,
                                    {.attempts = 2, .instance_id = row.instance_id});
    if (done) {
      out.confirmed.push_back(row.provider_instance_id);
    } else {
      out.still_pending.push_back(row.provider_instance_id + ": " + done.error().message);
    }
  }
  return out;
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
  RETURN_IF_ERROR(DestroyAndConfirm(provider, state, id, clock));
  return DestroyOutcome::kDestroyed;
}

Result<ReapResult> ReapUnowned(Provider* provider, StateStore* state,
                               const std::string& label_prefix, std::chrono::seconds grace,
                               Clock* clock, bool retry_pending) {
  ASSIGN_OR_RETURN(auto owned, OwnedInstances(state, provider->Name()));
  // What it destroys has no ownership row to end: it is not owned.
  PendingDestroys pending;
  if (retry_pending) {
    ASSIGN_OR_RETURN(pending, RetryPendingDestroys(provider, state, clock));
  }
  // Races are known by their failovers: one whose failover runs (claimed, unexpired) is never
  // touched, whatever its machines' age (a long race, machines rented on suspicion that it
  // took over); one whose process died (its claim expired) is reaped at once; any other
  // (finished, or begun after this read) keeps the age rule.
  ASSIGN_OR_RETURN(auto failovers, state->ListFailoverEvents({.unfinished_only = true}));
  const int64_t now_ms = NowMillis(clock);
  std::set<std::string> live_failovers, dead_failovers, live_instances;
  for (const FailoverEvent& e : failovers) {
    if (e.claim_expires_at >= now_ms) {
      live_failovers.insert(e.failover_id);
      live_instances.insert(e.instance_id);
    } else {
      dead_failovers.insert(e.failover_id);
    }
  }
  auto rule = [&](const std::string& label) -> std::optional<std::chrono::seconds> {
    if (auto at = label.find(":failover:"); at != std::string::npos) {
      const std::string tag = label.substr(at + 10);
      const std::string failover = tag.substr(0, tag.rfind('-'));
      if (live_failovers.contains(failover)) return std::nullopt;
      if (dead_failovers.contains(failover)) return std::chrono::seconds(0);
    }
    if (auto at = label.find(":speculative:"); at != std::string::npos) {
      const std::string tag = label.substr(at + 13);
      if (live_instances.contains(tag.substr(0, tag.find('+')))) return std::nullopt;
    }
    return grace;
  };
  ASSIGN_OR_RETURN(ReapResult reaped,
                   ReapOrphans(provider, state, label_prefix, owned, grace, clock, rule));
  reaped.pending_confirmed = std::move(pending.confirmed);
  reaped.pending_failed = std::move(pending.still_pending);
  return reaped;
}

}  // namespace standby
