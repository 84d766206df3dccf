#include "remote/host_agent.h"

#include "base/json_fields.h"

namespace standby {
namespace {

using nlohmann::json;

constexpr int64_t kMaxCount = int64_t{1} << 40;
constexpr int64_t kMaxBytes = int64_t{1} << 60;
constexpr int64_t kMaxMillis = int64_t{1} << 45;

Result<Validation> ValidationField(JsonFields& f) {
  std::string name = f.String("validation", 16);
  RETURN_IF_ERROR(f.status());
  auto v = ParseValidation(name);
  if (!v)
    return CorruptionError("agent result: validation \"" + name + "\" is neither ok nor failed");
  return *v;
}

}  // namespace

Result<SnapshotReport> ParseSnapshotReport(const json& data) {
  JsonFields f(data, "snapshot result");
  SnapshotReport r;
  r.snapshot_id = f.String("snapshot_id", 128);
  r.snapshot_type = f.String("snapshot_type", 16);
  r.base_snapshot_id = f.OptionalString("base_snapshot_id", 128).value_or("");
  r.files_total = f.Int("files_total", 0, kMaxCount);
  r.files_changed = f.Int("files_changed", 0, kMaxCount);
  r.bytes_total = f.Int("bytes_total", 0, kMaxBytes);
  r.bytes_uploaded = f.Int("bytes_uploaded", 0, kMaxBytes);
  r.duration_ms = f.Int("duration_ms", 0, kMaxMillis);
  r.compression = f.OptionalString("compression", 16).value_or("");
  RETURN_IF_ERROR(f.status());
  if (r.snapshot_type != "full" && r.snapshot_type != "incremental") {
    return CorruptionError("snapshot result: unknown snapshot_type \"" + r.snapshot_type + "\"");
  }
  r.raw = data;
  return r;
}

Result<RestoreReport> ParseRestoreReport(const json& data) {
  JsonFields f(data, "restore result");
  RestoreReport r;
  r.snapshot_id = f.String("snapshot_id", 128);
  r.files_restored = f.Int("files_restored", 0, kMaxCount);
  r.files_expected = f.Int("files_expected", 0, kMaxCount);
  r.bytes_restored = f.Int("bytes_restored", 0, kMaxBytes);
  r.bytes_downloaded = f.OptionalInt("bytes_downloaded", 0, kMaxBytes).value_or(0);
  r.duration_ms = f.Int("duration_ms", 0, kMaxMillis);
  ASSIGN_OR_RETURN(r.validation, ValidationField(f));
  if (r.validation == Validation::kOk && r.files_restored != r.files_expected) {
    return CorruptionError("restore result: validation ok with " +
                           std::to_string(r.files_restored) + " of " +
                           std::to_string(r.files_expected) + " files restored");
  }
  r.raw = data;
  return r;
}

Result<VerifyReport> ParseVerifyReport(const json& data) {
  JsonFields f(data, "verify result");
  VerifyReport r;
  r.snapshot_id = f.String("snapshot_id", 128);
  r.files_restored = f.Int("files_restored", 0, kMaxCount);
  r.files_expected = f.Int("files_expected", 0, kMaxCount);
  ASSIGN_OR_RETURN(r.validation, ValidationField(f));
  r.raw = data;
  return r;
}

Result<HostHealth> ParseHostHealth(const json& data) {
  JsonFields f(data, "health result");
  HostHealth h;
  h.clock_unix_ms = f.Int("clock_unix_ms", 0, kMaxMillis);
  h.uptime_s = f.Number("uptime_s", 0, 1e10);
  h.free_bytes = f.OptionalInt("free_bytes", 0, kMaxBytes);
  h.gpus = f.Strings("gpus", 64, 512);
  h.workload_alive = f.Bool("workload_alive");
  if (data.is_object() && data.contains("workload_health")) {
    JsonFields w(f.Object("workload_health"), "workload health");
    h.workload_healthy = w.Bool("ok");
    h.workload_detail = w.OptionalString("detail", 1024).value_or("");
    RETURN_IF_ERROR(w.status());
  }
  RETURN_IF_ERROR(f.status());
  h.raw = data;
  return h;
}

Result<WorkloadReport> ParseWorkloadReport(const json& data) {
  JsonFields f(data, "workload result");
  WorkloadReport w;
  w.state = f.String("state", 16);
  w.pid = f.OptionalInt("pid", 1, 1 << 30);
  w.started = f.OptionalBool("started").value_or(false);
  RETURN_IF_ERROR(f.status());
  if (w.state != "running" && w.state != "stopped") {
    return CorruptionError("workload result: unknown state \"" + w.state + "\"");
  }
  w.raw = data;
  return w;
}

AgentJob SnapshotJob(const std::string& instance_id, const std::string& workspace, bool full,
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
  return job;
}

AgentJob RestoreJob(const std::string& instance_id, const std::string& snapshot_id,
                    const std::string& target, const RestoreJobOptions& options) {
  AgentJob job;
  job.command = "restore";
  job.instance_id = instance_id;
  job.snapshot_id = snapshot_id;
  job.target = target;
  job.overwrite = options.overwrite;
  job.allow_external_symlinks = options.allow_external_symlinks;
  job.keep_special_bits = options.keep_special_bits;
  job.threads = options.threads;
  return job;
}

AgentJob VerifyJob(const std::string& instance_id, const std::string& snapshot_id,
                   const std::string& dir, size_t threads) {
  AgentJob job;
  job.command = "verify";
  job.instance_id = instance_id;
  job.snapshot_id = snapshot_id;
  job.workspace = dir;
  job.threads = threads;
  return job;
}

AgentJob WorkloadJob(const std::string& command, const std::string& instance_id,
                     const std::string& workspace, const WorkloadSpec& workload) {
  AgentJob job;
  job.command = command;
  job.instance_id = instance_id;
  job.workspace = workspace;
  job.workload_command = workload.command;
  job.workload_env = workload.env;
  job.grace_seconds = workload.grace_seconds;
  job.health_url = workload.health_url;
  job.check_command = workload.check_command;
  job.health_expect_status = workload.health_expect_status;
  job.health_expect_body = workload.health_expect_body;
  job.health_timeout_ms = workload.health_timeout_ms;
  return job;
}

Result<json> HostAgent::RunWithStore(AgentJob& job, const EventCallback& on_event) {
  transport_->ForgetFailure();  // Verify reads it: never the previous job's
  ASSIGN_OR_RETURN(std::unique_ptr<StoreGrants> grants, AddStoreAccess(*store_, &job));
  if (grants) {
    transport_->SetAuthorizer([&grants](const S3Operation& op) { return grants->Authorize(op); });
  }
  auto result = transport_->RunJob(job, on_event);
  transport_->SetAuthorizer(nullptr);
  return result;
}

Result<SnapshotReport> HostAgent::Snapshot(const std::string& instance_id,
                                           const std::string& workspace, bool full,
                                           const SnapshotJobOptions& options,
                                           const EventCallback& on_event) {
  AgentJob job = SnapshotJob(instance_id, workspace, full, options);
  ASSIGN_OR_RETURN(json data, RunWithStore(job, on_event));
  return ParseSnapshotReport(data);
}

Result<RestoreReport> HostAgent::Restore(const std::string& instance_id,
                                         const std::string& snapshot_id, const std::string& target,
                                         const RestoreJobOptions& options,
                                         const EventCallback& on_event) {
  AgentJob job = RestoreJob(instance_id, snapshot_id, target, options);
  ASSIGN_OR_RETURN(json data, RunWithStore(job, on_event));
  ASSIGN_OR_RETURN(RestoreReport report, ParseRestoreReport(data));
  // The snapshot asked for (or resolved by the controller for the grants), not another.
  if (!job.snapshot_id.empty() && report.snapshot_id != job.snapshot_id) {
    return CorruptionError("the host reports restoring snapshot " + report.snapshot_id + ", not " +
                           job.snapshot_id);
  }
  return report;
}

Result<VerifyReport> HostAgent::Verify(const std::string& instance_id,
                                       const std::string& snapshot_id, const std::string& dir,
                                       size_t threads) {
  AgentJob job = VerifyJob(instance_id, snapshot_id, dir, threads);
  auto data = RunWithStore(job, nullptr);
  if (!data) {
    // A tree that does not match comes back as a failed job carrying the verification.
    if (transport_->failure_data().is_object())
      return ParseVerifyReport(transport_->failure_data());
    return data.error();
  }
  return ParseVerifyReport(*data);
}

Result<HostHealth> HostAgent::Health(const std::string& instance_id, const std::string& workspace,
                                     const WorkloadSpec& workload) {
  ASSIGN_OR_RETURN(
      json data,
      transport_->RunJob(WorkloadJob("health", instance_id, workspace, workload), nullptr));
  return ParseHostHealth(data);
}

Result<WorkloadReport> HostAgent::StartWorkload(const std::string& instance_id,
                                                const std::string& workspace,
                                                const WorkloadSpec& workload) {
  ASSIGN_OR_RETURN(
      json data,
      transport_->RunJob(WorkloadJob("workload start", instance_id, workspace, workload), nullptr));
  return ParseWorkloadReport(data);
}

Result<WorkloadReport> HostAgent::StopWorkload(const std::string& instance_id,
                                               const WorkloadSpec& workload) {
  ASSIGN_OR_RETURN(
      json data,
      transport_->RunJob(WorkloadJob("workload stop", instance_id, "", workload), nullptr));
  return ParseWorkloadReport(data);
}

}  // namespace standby
