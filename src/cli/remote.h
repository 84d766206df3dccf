#pragma once

#include <string>
#include <vector>

#include "cli/command.h"
#include "remote/host_command.h"

namespace standby {

// Where the command's job runs, from those flags (without --ssh: the agent as a local
// subprocess), with the repository's location and credentials when `with_store`; the agent's
// log lines are printed as local commands print theirs.
Result<HostCommand> HostCommandFor(const Invocation& inv, bool with_store);

}  // namespace standby
