#pragma once

#include <chrono>
#include <set>
#include <string>
#include <vector>

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

struct DestroyOptions {
  int attempts = 5;                      // destroy + check, up to this many times
  std::chrono::milliseconds poll{1000};  // between tries
  std::string instance_id;               // the protected instance it served, if any
};

// Destroys `id` and confirms the provider no longer lists it, then (with `state`) ends its
// ownership row. When the provider does not confirm — the destroy fails, or it is
// acknowledged and the machine is still listed — the machine is marked destroy-pending in
// `state` (an owned row is made for one that had none), so RetryPendingDestroys keeps at it
// until the provider confirms; the result is then kUnavailable naming what failed last.
// Nothing is forgotten: a caller may go on, but must not treat the machine as gone.
[[nodiscard]] Status DestroyAndConfirm(Provider* provider, StateStore* state, const std::string& id,
                                       Clock* clock, const DestroyOptions& options = {});

// One pass over `provider`'s destroy-pending machines: each is destroyed again and, once the
// provider confirms, its row ends. What the pass did, for the log and `standby reap`.
struct PendingDestroys {
  std::vector<std::string> confirmed;
  std::vector<std::string> still_pending;  // "id: why"
};
Result<PendingDestroys> RetryPendingDestroys(Provider* provider, StateStore* state, Clock* clock);

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
                               Clock* clock, bool retry_pending = true);

}  // namespace standby
