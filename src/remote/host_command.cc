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
  return RunCommandJob(where, SnapshotJob(instance_id, workspace, full, options));
}

Result<nlohmann::json> RestoreOnHost(const HostCommand& where, const RestoreOnHostArgs& args) {
  AgentJob job =
      RestoreJob(args.instance_id, args.snapshot_id, args.target, args.overwrite, args.threads);
  job.allow_external_symlinks = args.allow_external_symlinks;
  return RunCommandJob(where, job);
}

Result<nlohmann::json> VerifyOnHost(const HostCommand& where, const std::string& instance_id,
                                    const std::string& snapshot_id, const std::string& dir,
                                    size_t threads, nlohmann::json* failure_data) {
  return RunCommandJob(where, VerifyJob(instance_id, snapshot_id, dir, threads), failure_data);
}

Result<nlohmann::json> HealthOnHost(const HostCommand& where, const std::string& instance_id,
                                    const std::string& workspace, const WorkloadSpec& workload) {
  ASSIGN_OR_RETURN(nlohmann::json data,
                   RunCommandJob(where, WorkloadJob("health", instance_id, workspace, workload)));
  // The agent read its clock just before its result; this one when the result arrived.
  data["clock_offset_ms"] = data.value("clock_unix_ms", int64_t{0}) -
                            data["transport"].value("result_unix_ms", int64_t{0});
  return data;
}

}  // namespace standby
