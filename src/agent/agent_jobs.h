#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"
#include "env/clock.h"
#include "env/file_system.h"
#include "remote/agent_protocol.h"
#include "store/object_store.h"

namespace standby {

// Writes one event (a JSON object with "type") to the controller. Thread-safe in practice:
// the agent serialises calls.
using EventWriter = std::function<void(const nlohmann::json&)>;

// What a job runs against: the host's clock, file system and user, and how the job's
// repository is opened. standby-agent uses the real ones (RealAgentEnv); the in-process
// hosts of tests put each host under its own directory and share a memory store.
struct AgentEnv {
  Clock* clock = nullptr;
  FileSystem* fs = nullptr;
  std::string home;  // the host user's home: the default workload state lives under it
  // Prefix of every absolute path a job names ("" on a real host).
  std::string root;
  // Opens the job's repository: job.repo with the job's S3 settings on a real host, every
  // S3 request authorized by `grants` (the host holds no credential).
  std::function<Result<std::unique_ptr<ObjectStore>>(const AgentJob&, const S3Authorizer& grants)>
      open_store;
  // Set by the session for the job it runs.
  S3Authorizer grants;
  // Set when the controller is gone or asked the job to stop (SIGTERM, SIGINT, its input
  // closed, its output broken): snapshot and restore stop at their next chunk and clean up.
  const StopSignal* cancel = nullptr;

  // `path` as this host's file system sees it.
  std::string HostPath(const std::string& path) const;
};

// The real host: Clock::Real(), FileSystem::Real(), $HOME, the job's own repository.
AgentEnv RealAgentEnv();

// Runs a job on this host, streaming progress and log events through `emit`; returns the
// result's data (the same fields as the CLI's --json output) or the error. Data whose
// "validation" is not "ok" (verify) is a failed job that still carries its data.
Result<nlohmann::json> RunAgentJob(const AgentJob& job, const EventWriter& emit,
                                   const AgentEnv& env);

// How often a running job says it is alive (a `heartbeat` event).
inline constexpr std::chrono::seconds kHeartbeatInterval{5};

// One agent session: the hello, then the job as the first line from `read_line`, then
// events and one result through `emit`; grant answers are the lines that follow the job.
// Returns the process exit status (0 only when the job succeeded).
int RunAgentSession(const std::function<Result<std::string>()>& read_line, const EventWriter& emit,
                    const AgentEnv& env, int64_t pid);

}  // namespace standby
