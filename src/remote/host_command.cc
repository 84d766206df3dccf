#include "remote/host_command.h"

#include "remote/ssh_transport.h"

namespace standby {
namespace {

// Runs `job` where `where` says, adding the store access and the transport's report.
Result<nlohmann::json> RunCommandJob(const HostCommand& where, AgentJob job,
                                     nlohmann::json* failure_data = nullptr) {
  const SshSettings& ssh = where.ssh;
  if (where.store) RETURN_IF_ERROR(AddStoreAccess(*where.store, &job));
  if (!where.address) {
    LocalTransport local(ssh.agent_path, ssh.clock);
    auto ran = local.RunJob(job, where.on_event);
    if (!ran && failure_data) *failure_data = local.failure_data();
    ASSIGN_OR_RETURN(nlohmann::json data, std::move(ran));
    data["transport"] = {{"local", ssh.agent_path}, {"result_unix_ms", NowMillis(ssh.clock)}};
    return data;
  }
  SshTransportFactory factory(ssh);
  SshTransport transport(factory.OptionsFor(*where.address), ssh.agent_path);
  auto ran = transport.RunJob(job, where.on_event);
  if (!ran && failure_data) *failure_data = transport.failure_data();
  ASSIGN_OR_RETURN(nlohmann::json data, std::move(ran));
  const SshJobTimings& t = transport.last_timings();
  data["transport"] = {{"ssh", where.address->Describe()}, {"result_unix_ms", NowMillis(ssh.clock)},
                       {"connect_ms", t.connect_ms},       {"agent_uploaded", t.uploaded},
                       {"upload_ms", t.upload_ms},         {"first_event_ms", t.first_event_ms}};
  return data;
}

}  // namespace

Result<nlohmann::json> SnapshotOnHost(const HostCommand& where, const std::string& instance_id,
                                      const std::string& workspace, bool full,
                                      const SnapshotJobOptions& options) {
  AgentJob job;
  job.command = "snapshot";
  job.instance_id = instance_id;
  job.workspace = workspace;
  job.full = full;
  job.compression = options.compression;
  job.pack_size_mb = options.pack_size_mb;
  job.lock_wait_seconds = options.lock_wait_seconds;
  job.threads = options.threads;
  return RunCommandJob(where, job);
}

Result<nlohmann::json> RestoreOnHost(const HostCommand& where, const RestoreOnHostArgs& args) {
  AgentJob job;
  job.command = "restore";
  job.instance_id = args.instance_id;
  job.snapshot_id = args.snapshot_id;
  job.target = args.target;
  job.overwrite = args.overwrite;
  job.allow_external_symlinks = args.allow_external_symlinks;
  job.threads = args.threads;
  return RunCommandJob(where, job);
}

Result<nlohmann::json> VerifyOnHost(const HostCommand& where, const std::string& instance_id,
                                    const std::string& snapshot_id, const std::string& dir,
                                    size_t threads, nlohmann::json* failure_data) {
  AgentJob job;
  job.command = "verify";
  job.instance_id = instance_id;
  job.snapshot_id = snapshot_id;
  job.workspace = dir;
  job.threads = threads;
  return RunCommandJob(where, job, failure_data);
}

Result<nlohmann::json> HealthOnHost(const HostCommand& where, const std::string& instance_id,
                                    const std::string& workspace, const WorkloadSpec& workload) {
  AgentJob job;
  job.command = "health";
  job.instance_id = instance_id;
  job.workspace = workspace;
  job.health_url = workload.health_url;
  job.health_expect_status = workload.health_expect_status;
  job.health_expect_body = workload.health_expect_body;
  job.health_timeout_ms = workload.health_timeout_ms;
  job.check_command = workload.check_command;
  ASSIGN_OR_RETURN(nlohmann::json data, RunCommandJob(where, job));
  // The agent read its clock just before its result; this one when the result arrived.
  data["clock_offset_ms"] = data.value("clock_unix_ms", int64_t{0}) -
                            data["transport"].value("result_unix_ms", int64_t{0});
  return data;
}

}  // namespace standby
