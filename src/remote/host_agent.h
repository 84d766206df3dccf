#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "remote/agent_protocol.h"
#include "remote/local_transport.h"
#include "remote/store_access.h"
#include "snapshot/verifier.h"

namespace standby {

// The jobs a controller runs on a host, typed. Every result is read field by field from
// what the host sent (hostile input): a wrong type or an impossible value is kCorruption,
// never an exception; `raw` keeps the data as sent for printing.

struct SnapshotReport {
  std::string snapshot_id;
  std::string snapshot_type;  // full | incremental
  std::string base_snapshot_id;
  int64_t files_total = 0;
  int64_t files_changed = 0;
  int64_t bytes_total = 0;
  int64_t bytes_uploaded = 0;
  int64_t duration_ms = 0;
  std::string compression;
  nlohmann::json raw;
};

struct RestoreReport {
  std::string snapshot_id;
  int64_t files_restored = 0;
  int64_t files_expected = 0;
  int64_t bytes_restored = 0;
  int64_t bytes_downloaded = 0;
  int64_t duration_ms = 0;
  Validation validation = Validation::kFailed;
  nlohmann::json raw;
};

struct VerifyReport {
  std::string snapshot_id;
  Validation validation = Validation::kFailed;
  int64_t files_restored = 0;
  int64_t files_expected = 0;
  nlohmann::json raw;
};

struct HostHealth {
  int64_t clock_unix_ms = 0;  // the host's clock when it answered
  double uptime_s = 0;
  std::optional<int64_t> free_bytes;
  std::vector<std::string> gpus;
  bool workload_alive = false;
  // The workload's health check, when a health URL was given.
  std::optional<bool> workload_healthy;
  std::string workload_detail;
  nlohmann::json raw;
};

struct WorkloadReport {
  std::string state;  // running | stopped
  std::optional<int64_t> pid;
  bool started = false;  // start: a new process (false: it was already running)
  nlohmann::json raw;
};

// How snapshots are written (the snapshot.* settings).
struct SnapshotJobOptions {
  std::string compression = "lz4";
  uint64_t pack_size_mb = 16;
  uint64_t lock_wait_seconds = 60;
  size_t threads = 0;  // 0 = automatic
};

// How a restore treats what is already at its target (the restore command's flags).
struct RestoreJobOptions {
  // Rewrite what differs: a rerun resumes, and a fresh host's workspace may exist empty.
  bool overwrite = true;
  bool allow_external_symlinks = false;
  bool keep_special_bits = false;
  size_t threads = 0;  // 0 = automatic
};

// What a workload is and how to check it.
struct WorkloadSpec {
  std::string command;  // run with /bin/sh -c in the workspace
  std::vector<std::pair<std::string, std::string>> env;
  std::string health_url;     // http://127.0.0.1:PORT/path on the host; empty = no check
  std::string check_command;  // or: a command whose exit 0 means healthy
  int health_expect_status = 200;
  std::string health_expect_body;
  int health_timeout_ms = 2000;
  int grace_seconds = 10;

  bool HasCheck() const { return !health_url.empty() || !check_command.empty(); }
};

// The jobs themselves, without store access (the runner adds it): one place says which
// fields each command's job carries.
AgentJob SnapshotJob(const std::string& instance_id, const std::string& workspace, bool full,
                     const SnapshotJobOptions& options);
AgentJob RestoreJob(const std::string& instance_id, const std::string& snapshot_id,
                    const std::string& target, const RestoreJobOptions& options);
AgentJob VerifyJob(const std::string& instance_id, const std::string& snapshot_id,
                   const std::string& dir, size_t threads = 0);
// `command` is health, workload start or workload stop.
AgentJob WorkloadJob(const std::string& command, const std::string& instance_id,
                     const std::string& workspace, const WorkloadSpec& workload);

Result<SnapshotReport> ParseSnapshotReport(const nlohmann::json& data);
Result<RestoreReport> ParseRestoreReport(const nlohmann::json& data);
Result<VerifyReport> ParseVerifyReport(const nlohmann::json& data);
Result<HostHealth> ParseHostHealth(const nlohmann::json& data);
Result<WorkloadReport> ParseWorkloadReport(const nlohmann::json& data);

// Runs typed jobs on one host through `transport` (not owned; one job at a time, as the
// transport requires). `store` (not owned) is how the host reaches the repository.
class HostAgent {
 public:
  using EventCallback = std::function<void(const AgentEvent&)>;
  HostAgent(AgentTransport* transport, const StoreAccess* store)
      : transport_(transport), store_(store) {}

  Result<SnapshotReport> Snapshot(const std::string& instance_id, const std::string& workspace,
                                  bool full, const SnapshotJobOptions& options = {},
                                  const EventCallback& on_event = nullptr);
  // Restores `snapshot_id` of `instance_id` ("" = its latest) into `target`.
  Result<RestoreReport> Restore(const std::string& instance_id, const std::string& snapshot_id,
                                const std::string& target, const RestoreJobOptions& options = {},
                                const EventCallback& on_event = nullptr);
  // A tree that does not match is a VerifyReport with kFailed, not an error.
  Result<VerifyReport> Verify(const std::string& instance_id, const std::string& snapshot_id,
                              const std::string& dir, size_t threads = 0);
  Result<HostHealth> Health(const std::string& instance_id, const std::string& workspace,
                            const WorkloadSpec& workload);
  Result<WorkloadReport> StartWorkload(const std::string& instance_id, const std::string& workspace,
                                       const WorkloadSpec& workload);
  Result<WorkloadReport> StopWorkload(const std::string& instance_id, const WorkloadSpec& workload);

 private:
  // Adds the store access to `job` (resolving a restore's snapshot id for its grants) and
  // runs it.
  Result<nlohmann::json> RunWithStore(AgentJob& job, const EventCallback& on_event);

  AgentTransport* transport_;
  const StoreAccess* store_;
};

}  // namespace standby
