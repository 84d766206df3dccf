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

// The standby-agent binary to deploy: the `agent_path` setting, else the one beside standby.
Result<std::string> AgentBinary(const Invocation& inv);

// A job for `command` carrying the store's location and credentials from the configuration.
// For an s3:// repository the endpoint's host name is resolved here and its addresses put in
// the job: the agent does not resolve names.
Result<AgentJob> JobFor(const Invocation& inv, const std::string& command);

// Runs `job` on the --ssh host (without --ssh: the agent as a local subprocess): connects (the
// controller's key unless --ssh-key), deploys the agent if that host lacks it, prints the agent's
// log lines as local commands print theirs, and returns the result's data. Timings are added to the
// data under "transport", with "result_unix_ms", this clock when the result arrived. When the
// job fails but the agent sent what it found (a failed verification), that goes to
// `failure_data`.
Result<nlohmann::json> RunOnHost(const Invocation& inv, const AgentJob& job,
                                 nlohmann::json* failure_data = nullptr);

}  // namespace standby
