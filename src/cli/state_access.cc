#include "cli/state_access.h"

#include "provision/provider_settings.h"
#include "state/open_state_store.h"

namespace standby {

std::string StateDir(const Invocation& inv) { return StateDirFromConfig(inv.config); }

Result<std::unique_ptr<SpoolingStateStore>> OpenStateFor(const Invocation& inv) {
  return OpenSpooledStateStore(inv.config.GetOr("database_url", ""), StateDir(inv));
}

}  // namespace standby
