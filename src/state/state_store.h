#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/time.h"

namespace standby {

// Times are Unix milliseconds (UTC) in every table; 0 means "not yet".

// A workload standby keeps alive. `version` implements optimistic concurrency: an update
// names the version it read and fails with kConflict when another writer got there first.
struct ProtectedInstance {
  std::string instance_id;
  std::string spec_json;  // launch spec: image, GPU filter, workload, health check
  std::string provider_instance_id;
  std::string ssh_host;
  int ssh_port = 0;
  std::string status;  // protected | failing_over | lost | paused
  std::string last_snapshot_id;
  int64_t last_snapshot_at = 0;
  int consecutive_snapshot_failures = 0;
  int64_t version = 0;
  int64_t updated_at = 0;
};

// Every machine standby ever rented.
struct ProviderInstanceRow {
  std::string provider;  // vast | static | local
  std::string provider_instance_id;
  std::string machine_id;
  std::string label;
  std::string purpose;  // primary | candidate | standby
  std::string gpu_name;
  double price_per_hour = 0;
  int64_t created_at = 0;
  int64_t ready_at = 0;
  int64_t destroyed_at = 0;
};

// A snapshot's manifest header, as recorded by the controller.
struct SnapshotRow {
  std::string snapshot_id;
  std::string instance_id;
  std::string snapshot_type;  // full | incremental
  std::string base_snapshot_id;
  int64_t files_total = 0;
  int64_t files_changed = 0;
  int64_t bytes_total = 0;
  int64_t bytes_uploaded = 0;
  int64_t created_at = 0;
  std::string compression;
  int64_t duration_ms = 0;
};

// One candidate of a provisioning race.
struct ProvisioningAttempt {
  std::string attempt_id;
  std::string failover_id;  // may be empty (standby pool, drills)
  std::string provider;
  std::string offer_id;
  std::string machine_id;
  std::string provider_instance_id;
  int64_t launched_at = 0;
  int64_t ready_ms = -1;     // launch → SSH ready; -1 when it never became ready
  int64_t censored_ms = -1;  // how long it was watched before being abandoned
  std::string outcome;       // won | lost_race | timeout | exited | launch_failed
  int rate_limit_hits = 0;
};

// One failover: the seed's failover_test_events columns under their names, and the rest.
struct FailoverEvent {
  std::string failover_id;
  std::string instance_id;
  std::string trigger;  // automatic | manual | drill
  int64_t started_at = 0;
  int64_t completed_at = 0;
  bool success = false;
  std::string failure_phase;
  std::string failure_reason;
  int64_t detection_ms = 0;
  int64_t gpu_provisioning_time_ms = 0;
  int64_t snapshot_ms = 0;
  int64_t restore_ms = 0;
  int64_t validation_ms = 0;
  int64_t workload_start_ms = 0;
  int64_t health_check_ms = 0;
  int64_t total_ms = 0;  // the MTTR
  std::string original_ssh_host;
  int original_ssh_port = 0;
  std::string snapshot_id;
  std::string snapshot_type;
  std::string base_snapshot_id;
  int64_t files_changed = 0;
  std::string new_instance_id;
  std::string new_ssh_host;
  int new_ssh_port = 0;
  std::string gpu_name;
  int candidates_launched = 0;
  int rounds = 0;
  int rate_limit_hits = 0;
  int64_t files_restored = 0;
  int64_t files_expected = 0;
  int64_t bytes_restored = 0;
  std::string phase_timings_json = "{}";

  friend bool operator==(const FailoverEvent&, const FailoverEvent&) = default;
};

struct BlacklistEntry {
  std::string machine_id;
  std::string reason;
  int64_t until = 0;
};

// Durable state of the controller. Implementations (SQLite, PostgreSQL) are thread-safe.
// Record* calls are upserts keyed by their id, so replaying one is harmless.
// Errors: kUnavailable (retryable) when the database cannot be reached; kConflict when an
// optimistic update lost; kCorruption when stored rows do not parse.
class StateStore {
 public:
  virtual ~StateStore() = default;

  // "sqlite:///path" or "postgresql://host:port/db" with the password replaced by "***".
  virtual std::string Describe() const = 0;

  // Inserts a new protected instance (version 1); kConflict when it exists.
  virtual Status CreateProtectedInstance(const ProtectedInstance& instance) = 0;
  virtual Result<std::optional<ProtectedInstance>> GetProtectedInstance(const std::string& id) = 0;
  virtual Result<std::vector<ProtectedInstance>> ListProtectedInstances() = 0;
  // Writes `instance` if its stored version is still `instance.version`, bumping it; returns
  // the new version; kConflict when another writer updated it first.
  virtual Result<int64_t> UpdateProtectedInstance(const ProtectedInstance& instance) = 0;

  virtual Status RecordProviderInstance(const ProviderInstanceRow& row) = 0;
  virtual Result<std::vector<ProviderInstanceRow>> ListProviderInstances() = 0;
  virtual Status RecordSnapshot(const SnapshotRow& row) = 0;
  virtual Result<std::vector<SnapshotRow>> ListSnapshots(const std::string& instance_id) = 0;
  virtual Status RecordProvisioningAttempt(const ProvisioningAttempt& row) = 0;
  // Attempts of one provider, or of all when `provider` is empty, oldest first.
  virtual Result<std::vector<ProvisioningAttempt>> ListProvisioningAttempts(
      const std::string& provider) = 0;
  virtual Status BlacklistMachine(const BlacklistEntry& entry) = 0;
  // Machines blacklisted until after `now_ms`.
  virtual Result<std::vector<BlacklistEntry>> ActiveBlacklist(int64_t now_ms) = 0;
  virtual Status RecordFailoverEvent(const FailoverEvent& event) = 0;
  virtual Result<std::vector<FailoverEvent>> ListFailoverEvents() = 0;
};

}  // namespace standby
