#include "agent/agent_jobs.h"

#include <sys/statvfs.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "agent/workload.h"
#include "base/log.h"
#include "base/strings.h"
#include "env/child_process_env.h"
#include "env/clock.h"
#include "snapshot/repository.h"
#include "snapshot/restorer.h"
#include "snapshot/result_json.h"
#include "snapshot/snapshot_writer.h"
#include "snapshot/verifier.h"
#include "store/open_store.h"

namespace standby {
namespace {

using nlohmann::json;

constexpr std::chrono::seconds kGpuQueryTimeout{10};

Result<std::unique_ptr<ObjectStore>> OpenJobStore(const AgentJob& job, const S3Authorizer& grants,
                                                  Clock* clock) {
  StoreSettings settings;
  settings.s3_endpoint = job.s3_endpoint;
  settings.s3_region = job.s3_region;
  settings.s3_path_style = job.s3_path_style;
  settings.authorizer = grants;
  settings.concurrency = std::max<size_t>(1, job.concurrency);
  if (!job.s3_host.empty()) settings.resolved[job.s3_host] = job.s3_addresses;
  settings.resolved["localhost"] = {"127.0.0.1", "::1"};
  settings.use_system_resolver = false;
  settings.clock = clock;
  return OpenObjectStore(job.repo, settings);
}

std::optional<std::string> NonEmpty(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

Result<json> Snapshot(const AgentJob& job, const EventWriter& emit, const AgentEnv& env) {
  ASSIGN_OR_RETURN(auto store, env.open_store(job, env.grants));
  SnapshotOptions options;
  options.instance_id = job.instance_id;
  options.workspace = env.HostPath(job.workspace);
  options.fs = env.fs;
  options.clock = env.clock;
  options.force_full = job.full;
  ASSIGN_OR_RETURN(options.compression, ParseCompression(job.compression));
  if (job.pack_size_mb < 1 || job.pack_size_mb > 1024) {
    return InvalidArgumentError("pack size must be 1–1024 MiB");
  }
  options.pack_size = job.pack_size_mb * 1024 * 1024;
  options.lock_wait = std::chrono::seconds(job.lock_wait_seconds);
  options.lock_held_by_caller = job.lock_held;
  options.threads = job.threads;
  options.cancel = env.cancel;
  ASSIGN_OR_RETURN(SnapshotResult r, CreateSnapshot(store.get(), options));
  json data = SnapshotJson(r, store.get());
  emit({{"type", "log"}, {"level", "info"}, {"message", SnapshotSummary(data)}});
  return data;
}

Result<json> Restore(const AgentJob& job, const EventWriter& emit, const AgentEnv& env) {
  ASSIGN_OR_RETURN(auto store, env.open_store(job, env.grants));
  ASSIGN_OR_RETURN(Manifest m,
                   LoadSnapshot(store.get(), NonEmpty(job.snapshot_id), NonEmpty(job.instance_id)));
  RestoreOptions options;
  options.target = env.HostPath(job.target);
  options.fs = env.fs;
  options.clock = env.clock;
  options.overwrite = job.overwrite;
  options.allow_external_symlinks = job.allow_external_symlinks;
  options.keep_special_bits = job.keep_special_bits;
  options.threads = job.threads;
  options.cancel = env.cancel;
  options.progress = [&](const std::string& line) {
    emit({{"type", "log"}, {"level", "info"}, {"message", line}});
  };
  options.progress_events = [&](const ProgressEvent& p) {
    emit({{"type", "progress"},
          {"phase", "restore"},
          {"percent", p.percent},
          {"bytes", p.done},
          {"total", p.total},
          {"rate", p.bytes_per_second}});
  };
  ASSIGN_OR_RETURN(RestoreResult r, RestoreSnapshot(store.get(), m, options));
  if (r.validation != Validation::kOk)
    return CorruptionError("restored tree does not match snapshot " + r.snapshot_id);
  return RestoreJson(m, job.target, r, store.get());
}

Result<json> Verify(const AgentJob& job, const EventWriter& emit, const AgentEnv& env) {
  ASSIGN_OR_RETURN(auto store, env.open_store(job, env.grants));
  ASSIGN_OR_RETURN(Manifest m,
                   LoadSnapshot(store.get(), NonEmpty(job.snapshot_id), NonEmpty(job.instance_id)));
  ASSIGN_OR_RETURN(DirectoryVerification v,
                   VerifyDirectory(m, env.HostPath(job.workspace), env.fs, job.threads));
  json data = VerifyJson(m, job.workspace, v);
  for (const std::string& line : VerifyReport(data)) {
    emit({{"type", "log"}, {"level", "info"}, {"message", line}});
  }
  return data;  // a failed validation is turned into a failed result by the caller
}

Result<json> Health(const AgentJob& job, const AgentEnv& env) {
  json data = {{"clock_unix_ms", NowMillis(env.clock)}};
  double uptime = 0;
  if (std::ifstream proc("/proc/uptime"); proc >> uptime) data["uptime_s"] = uptime;
  struct statvfs st;
  std::string dir = env.HostPath(job.workspace.empty() ? "/" : job.workspace);
  if (::statvfs(dir.c_str(), &st) == 0) {
    data["free_bytes"] = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  } else {
    data["free_bytes"] = nullptr;
  }
  json gpus = json::array();
  // Spawned with our signals unblocked for it, and bounded: a wedged driver hangs nvidia-smi.
  auto smi = CaptureProgramOutput(
      {"nvidia-smi", "--query-gpu=name,memory.total,memory.used,utilization.gpu",
       "--format=csv,noheader,nounits"},
      kGpuQueryTimeout, 64 * 1024);
  if (smi) {
    for (const std::string& line : SplitString(*smi, '\n')) {
      if (std::string_view gpu = TrimWhitespace(line); !gpu.empty())
        gpus.push_back(std::string(gpu));
    }
  } else if (smi.error().code == ErrorCode::kDeadlineExceeded) {
    spdlog::warn("GPU query: {}", smi.error().message);
  }
  data["gpus"] = gpus;
  if (gpus.empty()) data["gpu_status"] = "no GPU";
  ASSIGN_OR_RETURN(json workload, WorkloadStatus(job, env));
  data["workload_alive"] = workload["state"] == "running";
  if (!job.health_url.empty() || !job.check_command.empty()) {
    data["workload_health"] = CheckWorkloadHealth(job, env);
  }
  return data;
}

}  // namespace

std::string AgentEnv::HostPath(const std::string& path) const {
  if (root.empty() || path.empty() || path.front() != '/') return path;
  return root + path;
}

AgentEnv RealAgentEnv() {
  AgentEnv env;
  env.clock = Clock::Real();
  env.fs = FileSystem::Real();
  const char* home = std::getenv("HOME");
  env.home = home ? home : "/root";
  env.open_store = [clock = env.clock](const AgentJob& job, const S3Authorizer& grants) {
    return OpenJobStore(job, grants, clock);
  };
  return env;
}

Result<json> RunAgentJob(const AgentJob& job, const EventWriter& emit, const AgentEnv& env) {
  if (job.command == "snapshot") return Snapshot(job, emit, env);
  if (job.command == "restore") return Restore(job, emit, env);
  if (job.command == "verify") return Verify(job, emit, env);
  if (job.command == "health") return Health(job, env);
  if (job.command == "workload start") return StartWorkload(job, env);
  if (job.command == "workload stop") return StopWorkload(job, env);
  if (job.command == "workload status") return WorkloadStatus(job, env);
  return InvalidArgumentError("unknown agent command \"" + job.command + "\"");
}

}  // namespace standby
