#pragma once

#include <nlohmann/json.hpp>

#include "agent/agent_jobs.h"
#include "base/result.h"
#include "remote/agent_protocol.h"

namespace standby {

// The user's workload on this host: started detached in its own session and process group,
// stdout/stderr appended to <state_dir>/workload.log, its pid in <state_dir>/workload.pid.
// Start is idempotent (a running workload is left alone); stop sends TERM to the group,
// then KILL after the grace period of `env.clock` time. The default state dir is
// <home>/.local/state/standby-agent/<instance>.
Result<nlohmann::json> StartWorkload(const AgentJob& job, const AgentEnv& env);
Result<nlohmann::json> StopWorkload(const AgentJob& job, const AgentEnv& env);
Result<nlohmann::json> WorkloadStatus(const AgentJob& job, const AgentEnv& env);
// GET of job.health_url with its timeout, or job.check_command run in the workspace (exit 0
// within the timeout); {"ok", "status", "detail"}.
nlohmann::json CheckWorkloadHealth(const AgentJob& job, const AgentEnv& env);

}  // namespace standby
