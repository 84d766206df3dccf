#include "agent/agent_jobs.h"

#include <sys/statvfs.h>

#include <cstdio>
#include <fstream>

#include "agent/workload.h"
#include "env/clock.h"
#include "snapshot/repository.h"
#include "snapshot/restorer.h"
#include "snapshot/snapshot_writer.h"
#include "snapshot/verifier.h"
#include "store/open_store.h"

namespace standby {
namespace {

using nlohmann::json;

Result<std::unique_ptr<ObjectStore>> StoreFor(const AgentJob& job) {
  StoreSettings settings;
  settings.s3_endpoint = job.s3_endpoint;
  settings.s3_region = job.s3_region;
  settings.s3_path_style = job.s3_path_style;
  settings.credentials = {job.access_key_id, job.secret_access_key, job.session_token};
  settings.concurrency = std::max<size_t>(1, job.concurrency);
  return OpenObjectStore(job.repo, settings);
}

std::optional<std::string> NonEmpty(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

Result<json> Snapshot(const AgentJob& job) {
  ASSIGN_OR_RETURN(auto store, StoreFor(job));
  SnapshotOptions options;
  options.instance_id = job.instance_id;
  options.workspace = job.workspace;
  options.force_full = job.full;
  ASSIGN_OR_RETURN(options.compression, ParseCompression(job.compression));
  ASSIGN_OR_RETURN(SnapshotResult r, CreateSnapshot(store.get(), options));
  json data = json::parse(SerializeHeader(r.header));
  data["store_requests"] = store->RequestCounters().requests;
  data["store_retries"] = store->RequestCounters().retries;
  return data;
}

Result<json> Restore(const AgentJob& job, const EventWriter& emit) {
  ASSIGN_OR_RETURN(auto store, StoreFor(job));
  ASSIGN_OR_RETURN(Manifest m,
                   LoadSnapshot(store.get(), NonEmpty(job.snapshot_id), NonEmpty(job.instance_id)));
  RestoreOptions options;
  options.target = job.target;
  options.overwrite = job.overwrite;
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
  if (r.validation != "ok")
    return CorruptionError("restored tree does not match snapshot " + r.snapshot_id);
  return json{{"snapshot_id", r.snapshot_id},
              {"files_restored", r.files_restored},
              {"files_expected", r.files_expected},
              {"bytes_restored", r.bytes_restored},
              {"bytes_downloaded", r.bytes_downloaded},
              {"duration_ms", r.duration_ms},
              {"validation", r.validation}};
}

Result<json> Verify(const AgentJob& job) {
  ASSIGN_OR_RETURN(auto store, StoreFor(job));
  ASSIGN_OR_RETURN(Manifest m,
                   LoadSnapshot(store.get(), NonEmpty(job.snapshot_id), NonEmpty(job.instance_id)));
  ASSIGN_OR_RETURN(DirectoryVerification v, VerifyDirectory(m, job.workspace, FileSystem::Real()));
  json mismatches = json::array();
  for (const Mismatch& mm : v.mismatches) {
    mismatches.push_back({{"path", mm.path}, {"problem", mm.problem}, {"detail", mm.detail}});
  }
  return json{{"validation", v.validation},         {"files_restored", v.files_restored},
              {"files_expected", v.files_expected}, {"snapshot_id", m.header.snapshot_id},
              {"mismatches", mismatches},           {"extra", v.extra}};
}

Result<json> Health(const AgentJob& job) {
  json data = {{"clock_unix_ms", Clock::Real()->Now() / 1'000'000}};
  double uptime = 0;
  if (std::ifstream proc("/proc/uptime"); proc >> uptime) data["uptime_s"] = uptime;
  struct statvfs st;
  std::string dir = job.workspace.empty() ? "/" : job.workspace;
  if (::statvfs(dir.c_str(), &st) == 0) {
    data["free_bytes"] = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  } else {
    data["free_bytes"] = nullptr;
  }
  json gpus = json::array();
  if (FILE* smi = ::popen("nvidia-smi --query-gpu=name,memory.total,memory.used,utilization.gpu "
                          "--format=csv,noheader,nounits 2>/dev/null",
                          "r")) {
    char line[512];
    while (std::fgets(line, sizeof(line), smi) != nullptr) {
      std::string text(line);
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
      if (!text.empty()) gpus.push_back(text);
    }
    ::pclose(smi);
  }
  data["gpus"] = gpus;
  if (gpus.empty()) data["gpu_status"] = "no GPU";
  ASSIGN_OR_RETURN(json workload, WorkloadStatus(job));
  data["workload_alive"] = workload["state"] == "running";
  if (!job.health_url.empty()) data["workload_health"] = CheckWorkloadHealth(job);
  return data;
}

}  // namespace

Result<json> RunAgentJob(const AgentJob& job, const EventWriter& emit) {
  if (job.command == "snapshot") return Snapshot(job);
  if (job.command == "restore") return Restore(job, emit);
  if (job.command == "verify") return Verify(job);
  if (job.command == "health") return Health(job);
  if (job.command == "workload start") return StartWorkload(job);
  if (job.command == "workload stop") return StopWorkload(job);
  if (job.command == "workload status") return WorkloadStatus(job);
  return InvalidArgumentError("unknown agent command \"" + job.command + "\"");
}

}  // namespace standby
