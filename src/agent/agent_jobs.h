#pragma once

#include <functional>
#include <nlohmann/json.hpp>

#include "base/result.h"
#include "remote/agent_protocol.h"

namespace standby {

// Writes one event (a JSON object with "type") to the controller. Thread-safe in practice:
// the agent serialises calls.
using EventWriter = std::function<void(const nlohmann::json&)>;

// Runs a job on this host, streaming progress and log events through `emit`; returns the
// result's data (the same fields as the CLI's --json output) or the error. Data whose
// "validation" is not "ok" (verify) is a failed job that still carries its data.
Result<nlohmann::json> RunAgentJob(const AgentJob& job, const EventWriter& emit);

}  // namespace standby
