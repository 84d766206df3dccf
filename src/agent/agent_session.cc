#include <atomic>
#include <thread>

#include "agent/agent_jobs.h"
#include "agent/grant_client.h"
#include "base/log.h"
#include "snapshot/result_json.h"

namespace standby {
namespace {

// A failed result; `data`, when given, is what the command found (a verification's
// mismatches), for the controller to print as the local command would.
void EmitFailure(const EventWriter& emit, const Error& error,
                 const nlohmann::json& data = nullptr) {
  nlohmann::json event = {{"type", "result"},
                          {"ok", false},
                          {"error",
                           {{"code", ErrorCodeName(error.code)},
                            {"message", error.message},
                            {"retryable", error.retryable}}}};
  if (!data.is_null()) event["data"] = data;
  emit(event);
}

}  // namespace

int RunAgentSession(const std::function<Result<std::string>()>& read_line, const EventWriter& emit,
                    const AgentEnv& host_env, int64_t pid) {
  // The controller sends the job only after this line.
  emit({{"type", "hello"},
        {"protocol", kAgentProtocolVersion},
        {"agent", "standby-agent"},
        {"pid", pid}});
  auto input = read_line();
  if (!input) {
    EmitFailure(emit, input.error());
    return 1;
  }
  auto job = ParseAgentJob(*input);
  if (!job) {
    EmitFailure(emit, job.error());
    return 1;
  }
  GrantClient grants(job->grants, emit, read_line);
  AgentEnv env = host_env;
  env.grants = grants.AsAuthorizer();
  // A heartbeat while the job runs: a controller that hears nothing for a while knows the
  // host stalled, whatever the job's length.
  StopSignal done;
  std::thread heartbeat([&] {
    while (env.clock->WaitUnless(kHeartbeatInterval, done)) emit({{"type", "heartbeat"}});
  });
  auto result = RunAgentJob(*job, emit, env);
  done.Set();
  heartbeat.join();
  if (!result) {
    EmitFailure(emit, result.error());
    return 1;
  }
  if (result->contains("validation") && (*result)["validation"] != "ok") {
    EmitFailure(emit, CorruptionError(VerifyFailure(*result)), *result);
    return 1;
  }
  emit({{"type", "result"}, {"ok", true}, {"data", *result}});
  return 0;
}

}  // namespace standby
