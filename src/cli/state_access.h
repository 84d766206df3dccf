#pragma once

#include <memory>
#include <string>

#include "cli/command.h"
#include "state/spooling_state_store.h"

namespace standby {

// The state directory: the `state_dir` setting, else ~/.local/state/standby.
std::string StateDir(const Invocation& inv);
// Opens (and migrates) the database DATABASE_URL names, behind the spool in the state dir.
Result<std::unique_ptr<SpoolingStateStore>> OpenStateFor(const Invocation& inv);

}  // namespace standby
