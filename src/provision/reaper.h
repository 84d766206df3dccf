#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "env/clock.h"
#include "provider/provider.h"
#include "state/state_store.h"

namespace standby {

// The leak guard. Every instance standby creates carries a label
// "standby:<controller>:<purpose>:…"; an instance with this controller's prefix that no
// record owns, older than `grace`, is an orphan (a create whose answer was lost, a crash
// between create and record, a destroy that did not take) and is destroyed.
struct ReapResult {
  std::vector<std::string> destroyed;
  std::vector<std::string> kept_young;  // unowned but inside the grace period
  std::vector<std::string> failed;      // destroy errors, retried next time
  // Destroy-pending machines (ownership.h) confirmed gone by this pass, and still pending.
  std::vector<std::string> pending_confirmed;
  std::vector<std::string> pending_failed;
};

// A destroy the provider does not confirm is recorded destroy-pending in `state` (when
// given), so it is retried (ownership.h) and counted as failed here. `age_of` (may be null)
// overrides the age rule per label: nullopt keeps the instance whatever its age (a race that
// still runs), 0 reaps it at once (a race nobody runs any more), otherwise `grace` applies.
using LabelRule = std::function<std::optional<std::chrono::seconds>(const std::string& label)>;
Result<ReapResult> ReapOrphans(Provider* provider, StateStore* state,
                               const std::string& label_prefix, const std::set<std::string>& owned,
                               std::chrono::seconds grace, Clock* clock,
                               const LabelRule& rule = nullptr);

// "standby:<controller>:" — the controller is named by the setting or the host name.
std::string ControllerLabelPrefix(const std::string& controller);

}  // namespace standby
