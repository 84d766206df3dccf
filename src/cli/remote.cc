#include "cli/remote.h"

#include "base/log.h"
#include "cli/state_access.h"
#include "env/clock.h"
#include "env/file_system.h"
#include "remote/ssh_identity.h"
#include "remote/ssh_transport.h"

namespace standby {
namespace {

// The agent's log events, printed as the same command run here prints its lines.
void PrintAgentLog(const AgentEvent& event) {
  if (event.type != "log") return;
  std::string level = event.body.value("level", "info");
  std::string message = event.body.value("message", "");
  if (level == "warning" || level == "warn") {
    Say("warning: " + message);
  } else if (level == "error" || level == "critical") {
    Say("error: " + message);
  } else if (level != "debug" && level != "trace") {
    Say(message);
  }
}

}  // namespace

Result<std::string> AgentBinary(const Invocation& inv) {
  if (auto configured = inv.config.Get("agent_path"); configured && !configured->empty()) {
    return *configured;
  }
  ASSIGN_OR_RETURN(std::string self, SelfPath());
  return JoinPath(ParentPath(self), "standby-agent");
}

std::vector<FlagSpec> RemoteFlagSpecs() {
  return {{"ssh", true, ""}, {"ssh-key", true, "ssh.key"}, {"ssh-host-id", true, ""}};
}

Result<AgentJob> JobFor(const Invocation& inv, const std::string& command) {
  ASSIGN_OR_RETURN(StoreSettings settings, StoreSettingsFor(inv));
  AgentJob job;
  job.command = command;
  job.repo = inv.config.GetOr("repo", "");
  if (job.repo.empty()) {
    return InvalidArgumentError("no repository given: pass --repo or set STANDBY_REPO");
  }
  if (!job.repo.starts_with("s3://") && job.repo.starts_with("/") == false &&
      !job.repo.starts_with("file://")) {
    return InvalidArgumentError(
        "with --ssh, --repo must be an absolute path on the host, "
        "file:///… or s3://…; got " +
        job.repo);
  }
  job.s3_endpoint = settings.s3_endpoint;
  job.s3_region = settings.s3_region;
  job.s3_path_style = settings.s3_path_style;
  job.access_key_id = settings.credentials.access_key_id;
  job.secret_access_key = settings.credentials.secret_access_key;
  job.session_token = settings.credentials.session_token;
  job.concurrency = settings.concurrency;
  ASSIGN_OR_RETURN(auto resolved, ResolveStoreHost(job.repo, settings));
  if (resolved) {
    job.s3_host = resolved->first;
    job.s3_addresses = resolved->second;
  }
  ASSIGN_OR_RETURN(size_t threads, ThreadsSetting(inv));
  job.threads = threads;
  return job;
}

Result<nlohmann::json> RunOnHost(const Invocation& inv, const AgentJob& job,
                                 nlohmann::json* failure_data) {
  ASSIGN_OR_RETURN(std::string agent, AgentBinary(inv));
  if (!inv.Has("ssh")) {
    LocalTransport local(agent);
    auto ran = local.RunJob(job, PrintAgentLog);
    if (!ran && failure_data) *failure_data = local.failure_data();
    ASSIGN_OR_RETURN(nlohmann::json data, std::move(ran));
    data["transport"] = {{"local", agent}, {"result_unix_ms", Clock::Real()->Now() / 1'000'000}};
    return data;
  }
  SshOptions options;
  ASSIGN_OR_RETURN(options.target, ParseSshTarget(inv.Flag("ssh").value_or("")));
  std::string state_dir = StateDir(inv);
  FileSystem* fs = FileSystem::Real();
  if (auto key = inv.config.Get("ssh.key"); key && !key->empty()) {
    options.private_key_path = *key;
  } else {
    ASSIGN_OR_RETURN(SshIdentity identity, EnsureControllerKey(fs, state_dir));
    options.private_key_path = identity.private_key_path;
  }
  HostKeyPins pins(fs, state_dir);
  options.pins = &pins;
  options.pin_name = inv.Flag("ssh-host-id").value_or("");
  ASSIGN_OR_RETURN(uint64_t connect_timeout, inv.config.GetUint("ssh.connect_timeout_seconds"));
  options.connect_timeout = std::chrono::seconds(std::max<uint64_t>(1, connect_timeout));
  SshTransport transport(options, agent);
  auto ran = transport.RunJob(job, PrintAgentLog);
  if (!ran && failure_data) *failure_data = transport.failure_data();
  ASSIGN_OR_RETURN(nlohmann::json data, std::move(ran));
  const SshJobTimings& t = transport.last_timings();
  data["transport"] = {
      {"ssh", options.target.Describe()}, {"result_unix_ms", Clock::Real()->Now() / 1'000'000},
      {"connect_ms", t.connect_ms},       {"agent_uploaded", t.uploaded},
      {"upload_ms", t.upload_ms},         {"first_event_ms", t.first_event_ms}};
  return data;
}

}  // namespace standby
