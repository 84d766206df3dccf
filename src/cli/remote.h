#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command.h"
#include "remote/agent_protocol.h"

namespace standby {

// The flags of commands that can run on a host through standby-agent:
// --ssh USER@HOST[:PORT], --ssh-key FILE, --ssh-host-id NAME (the name its host key is
// pinned under; default HOST:PORT).
std::vector<FlagSpec> RemoteFlagSpecs();

// Runs `job` on the --ssh host (without --ssh: the agent as a local subprocess), the
// repository's location and credentials added when `with_store`; prints the agent's log
// lines as local commands print theirs (remote/host_command.h has the rest).
Result<nlohmann::json> RunOnHost(const Invocation& inv, const AgentJob& job, bool with_store,
                                 nlohmann::json* failure_data = nullptr);

}  // namespace standby
