#pragma once

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "remote/agent_protocol.h"

namespace standby {

// The user's workload on this host: started detached in its own session and process group,
// stdout/stderr appended to <state_dir>/workload.log, its pid in <state_dir>/workload.pid.
// Start is idempotent (a running workload is left alone); stop sends TERM to the group,
// then KILL after the grace period.
Result<nlohmann::json> StartWorkload(const AgentJob& job);
Result<nlohmann::json> StopWorkload(const AgentJob& job);
Result<nlohmann::json> WorkloadStatus(const AgentJob& job);
// GET of job.health_url with its timeout; {"ok", "status", "detail"}.
nlohmann::json CheckWorkloadHealth(const AgentJob& job);

}  // namespace standby
