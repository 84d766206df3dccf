#pragma once

#include <chrono>
#include <set>
#include <string>

#include "base/result.h"
#include "env/clock.h"
#include "provider/provider.h"
#include "provision/reaper.h"
#include "state/state_store.h"

namespace standby {

// Ownership of rented machines lives in the state store (provider_instances): a row without
// destroyed_at is owned, whichever controller sharing the database wrote it.

// Ids of `provider`'s instances that are owned.
Result<std::set<std::string>> OwnedInstances(StateStore* state, const std::string& provider);

// Destroys `id` and confirms the provider no longer knows it (up to `attempts` tries, `poll`
// apart on `clock`); with `state`, then marks its ownership row destroyed. True when the
// instance is confirmed gone; otherwise `detail` (when given) says what failed last.
bool DestroyAndConfirm(Provider* provider, StateStore* state, const std::string& id, Clock* clock,
                       int attempts = 5,
                       std::chrono::milliseconds poll = std::chrono::milliseconds(1000),
                       std::string* detail = nullptr);

enum class DestroyOutcome { kDestroyed, kAlreadyGone };
// `standby destroy`: idempotent — an instance the provider no longer knows is kAlreadyGone
// (its ownership ends too). kUnavailable when it still exists after the tries. `seen`, when
// given, receives the instance as the provider described it before the destroy.
Result<DestroyOutcome> DestroyInstance(Provider* provider, StateStore* state, const std::string& id,
                                       Clock* clock, Instance* seen = nullptr);

// The leak guard with ownership read from the state store: destroys instances labelled with
// `label_prefix` that nobody owns and that are older than `grace`.
Result<ReapResult> ReapUnowned(Provider* provider, StateStore* state,
                               const std::string& label_prefix, std::chrono::seconds grace,
                               Clock* clock);

}  // namespace standby
