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
  std::string spec_json;  // the protection spec (failover/protection_spec.h)
  std::string provider_instance_id;
  std::string ssh_host;
  int ssh_port = 0;
  std::string status;  // the instance state: healthy | suspect | failing_over | failed | ...
  std::string last_snapshot_id;
  int64_t last_snapshot_at = 0;
  int consecutive_snapshot_failures = 0;
  int64_t version = 0;
  int64_t updated_at = 0;
  std::string provider;  // local | vast | pool
  std::string ssh_user;
  std::string machine_id;
  std::string gpu_name;
  double price_per_hour = 0;
  int failovers = 0;  // successful failovers so far
  std::string last_failover_id;
  int64_t last_mttr_ms = 0;
  std::string health_detail;  // the last decision about the instance, with its evidence
  int64_t created_at = 0;
  // Which controller drives the instance, until when, and its ever-growing epoch (several
  // controllers on one PostgreSQL).
  std::string owner;
  int64_t lease_expires_at = 0;
  int64_t epoch = 0;
};

// Every machine standby rented and still owns (destroyed_at = 0) or has destroyed. A row
// without destroyed_at is what the reaper must not touch: ownership lives here, where
// every controller sharing the database sees it.
struct ProviderInstanceRow {
  std::string provider;  // vast | pool | local
  std::string provider_instance_id;
  std::string machine_id;
  std::string label;
  std::string purpose;  // primary | provisioned | standby
  std::string gpu_name;
  double price_per_hour = 0;
  int64_t created_at = 0;
  int64_t ready_at = 0;
  int64_t destroyed_at = 0;
  std::string instance_id;  // the protected instance it serves ("" for a bare provision)
  std::string controller;   // the controller that rented it
  // A destroy was asked for and the provider has not confirmed it yet: still owned (the
  // reaper's age rule leaves it alone) and retried until the provider confirms.
  int64_t destroy_pending_at = 0;
  std::string destroy_error;  // why the last try did not confirm
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
  std::string outcome;       // RaceOutcomeName (provision/race.h): won | lost | timed_out | ...
  int rate_limit_hits = 0;
};

// One failover: the seed's failover_test_events columns under their names, and the rest.
// The row is written as the failover advances: completed_at = 0 while it runs, and `phase`
// is where it is (the controller resumes from there after a crash).
struct FailoverEvent {
  std::string failover_id;
  std::string instance_id;
  std::string trigger;  // host_dead | workload_unhealthy | manual | planned | drill | initial
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
  std::string original_ssh_user;
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
  std::string phase = "done";  // failover/phases.h
  double progress = 0;         // restore percentage while restoring
  int attempts = 0;            // replacement machines tried
  bool planned = false;
  std::string provider;
  std::string original_instance_id;
  std::string original_machine_id;
  int64_t first_failure_at = 0;  // the first failed probe (MTTR starts here)
  int64_t detected_at = 0;
  std::string fence;  // confirmed | unconfirmed | "" (not yet)
  std::string new_machine_id;
  std::string new_ssh_user;
  std::string note;  // what an operator should know (a final snapshot that timed out, ...)
  int64_t updated_at = 0;
  std::string controller;
  // Fencing of the old host: `fence` is confirmed | pending (unconfirmed, the new host serves
  // and the controller keeps trying) | waiting (fencing.unconfirmed = wait: the new workload
  // waits for it) | "" (not yet); when it was confirmed and how.
  int64_t fenced_at = 0;
  std::string fence_detail;
  // A planned move: the old workload is left running until the new host passes (make before
  // break) when no_stop; otherwise it is stopped at workload_stopped_at for the final
  // snapshot, and pause_ms runs from there to the new host passing its check.
  bool no_stop = false;
  int64_t workload_stopped_at = 0;
  int64_t pause_ms = 0;
  std::string retry_of;  // the failed failover this one tries again (MTTR counts from its start)
  // A listing of this failover's race leftovers failed: they are swept again until it works.
  bool leftovers_pending = false;
  // The process running the failover and until when its claim holds (ClaimFailover).
  std::string claimed_by;
  int64_t claim_expires_at = 0;

  friend bool operator==(const FailoverEvent&, const FailoverEvent&) = default;
};

// Which failovers ListFailoverEvents returns: all fields set must match.
struct FailoverFilter {
  std::string instance_id;       // "" = every instance
  std::string failover_id;       // "" = every failover
  bool unfinished_only = false;  // completed_at = 0
  // Only failovers that left work behind: a fence pending or waiting, or race leftovers
  // pending (finished or not).
  bool cleanup_pending_only = false;
};

// An operator's request to the running controller (`standby failover`, `snapshot now`,
// `drill`), picked up within one probe interval.
struct RequestRow {
  std::string request_id;
  std::string instance_id;
  std::string kind;  // failover | snapshot | drill
  bool planned = false;
  std::string trigger;  // manual | drill
  int64_t created_at = 0;
  int64_t taken_at = 0;  // 0 while waiting
  std::string taken_by;
  std::string failover_id;
  std::string result;
  bool no_stop = false;  // a planned move that keeps the old workload serving until the new passes
};

// A running controller, as it last reported itself.
struct ControllerRow {
  std::string controller;
  int64_t pid = 0;
  std::string hostname;
  int64_t started_at = 0;
  int64_t heartbeat_at = 0;
  int64_t probe_interval_ms = 0;
  std::string api_url;
};

// One entry of the event log that `GET /api/v1/events` streams: what happened to an
// instance, in the order the store recorded it.
struct EventRow {
  int64_t id = 0;  // assigned by AppendEvent, greater than every id before it
  int64_t at = 0;  // Unix ms
  std::string instance_id;
  // failover.started | failover.phase | failover.finished | instance.health |
  // snapshot.finished
  std::string type;
  std::string data_json;  // a JSON object
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
  // Removes the protected instance (its history stays); kNotFound when it does not exist.
  virtual Status DeleteProtectedInstance(const std::string& id) = 0;

  virtual Status RecordProviderInstance(const ProviderInstanceRow& row) = 0;
  virtual Result<std::vector<ProviderInstanceRow>> ListProviderInstances() = 0;
  // Sets destroyed_at on the row, if there is one (destroying an unrecorded instance is not
  // an error).
  virtual Status MarkProviderInstanceDestroyed(const std::string& provider, const std::string& id,
                                               int64_t at_ms) = 0;
  // A destroy of `id` was asked for and not confirmed: marks its row destroy-pending since
  // `at_ms` (kept if already set) with `error`, creating an owned row for a machine that had
  // none (a race's candidate), so it is retried instead of forgotten. Not spooled.
  virtual Status MarkProviderInstanceDestroyPending(const std::string& provider,
                                                    const std::string& id,
                                                    const std::string& instance_id, int64_t at_ms,
                                                    const std::string& error) = 0;
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
  // Failovers, oldest first, narrowed by `filter` (the database does the narrowing: the
  // history grows, the questions asked of it every probe round do not).
  virtual Result<std::vector<FailoverEvent>> ListFailoverEvents(
      const FailoverFilter& filter = {}) = 0;
  // Claims unfinished failover `failover_id` for process `by` until `expires_at_ms` when
  // nobody holds it, its claim expired before `now_ms`, or `by` holds it already (a renewal):
  // true when `by` holds it afterwards; false when another process's claim is live, or the
  // failover is finished or gone (nothing is left to act on).
  // RecordFailoverEvent never changes a stored claim. Not spooled: a claim needs the answer.
  virtual Result<bool> ClaimFailover(const std::string& failover_id, const std::string& by,
                                     int64_t now_ms, int64_t expires_at_ms) = 0;
  // Sets a failover's fence to `to` (with when and how) if it still reads `from`: true when
  // it did. Touches nothing else of the row, so a cleanup or an operator never overwrites
  // what its failover wrote meanwhile.
  virtual Result<bool> SetFailoverFence(const std::string& failover_id, const std::string& from,
                                        const std::string& to, int64_t fenced_at,
                                        const std::string& detail) = 0;
  // Sets whether a failover's race leftovers still wait for a sweep, and nothing else.
  virtual Status SetFailoverLeftoversPending(const std::string& failover_id, bool pending) = 0;

  virtual Status CreateRequest(const RequestRow& request) = 0;
  // Requests not yet taken, oldest first.
  virtual Result<std::vector<RequestRow>> ListPendingRequests() = 0;
  virtual Result<std::optional<RequestRow>> GetRequest(const std::string& id) = 0;
  // Takes a waiting request for `by`: true when this call took it, false when another
  // controller had (at most one taker, even with several controllers).
  virtual Result<bool> TakeRequest(const std::string& id, const std::string& by, int64_t at_ms) = 0;
  // Records what became of a taken request (the failover it started, or why not).
  virtual Status FinishRequest(const std::string& id, const std::string& failover_id,
                               const std::string& result) = 0;

  virtual Status RecordControllerHeartbeat(const ControllerRow& row) = 0;
  virtual Result<std::vector<ControllerRow>> ListControllers() = 0;

  // Writes what a decorator kept back while the database was away (the spool): OK when
  // nothing is pending any more. A process reads before it adopts another's work, and what it
  // reads must include what it (or a dead process sharing its state directory) spooled.
  virtual Status FlushPending() { return OkStatus(); }

  // Appends `event` (its id is ignored) and returns the id it was given.
  virtual Result<int64_t> AppendEvent(const EventRow& event) = 0;
  // Events with an id above `after_id`, oldest first, at most `limit` of them.
  virtual Result<std::vector<EventRow>> ListEventsAfter(int64_t after_id, size_t limit) = 0;
  // The largest id given so far, 0 before the first event (pruning does not lower it).
  virtual Result<int64_t> LastEventId() = 0;
  // Deletes the events recorded before `before_ms`; returns how many went.
  virtual Result<int64_t> PruneEvents(int64_t before_ms) = 0;
};

}  // namespace standby
