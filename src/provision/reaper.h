#pragma once

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "env/clock.h"
#include "provider/provider.h"

namespace standby {

// The leak guard. Every instance standby creates carries a label
// "standby:<controller>:<purpose>:…"; an instance with this controller's prefix that no
// record owns, older than `grace`, is an orphan (a create whose answer was lost, a crash
// between create and record, a destroy that did not take) and is destroyed.
struct ReapResult {
  std::vector<std::string> destroyed;
  std::vector<std::string> kept_young;  // unowned but inside the grace period
  std::vector<std::string> failed;      // destroy errors, retried next time
};

Result<ReapResult> ReapOrphans(Provider* provider, const std::string& label_prefix,
                               const std::set<std::string>& owned, std::chrono::seconds grace,
                               Clock* clock);

// "standby:<controller>:" — the controller is named by the setting or the host name.
std::string ControllerLabelPrefix(const std::string& controller);

}  // namespace standby
