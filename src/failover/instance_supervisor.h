#pragma once

#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "failover/controller_context.h"
#include "failover/health_policy.h"
#include "failover/protection_spec.h"
#include "failover/recovery.h"
#include "failover/speculation.h"
#include "failover/work_pool.h"
#include "remote/local_transport.h"

namespace standby {

// The provider's instances as one listing saw them (one request per round for all
// instances, never one per instance).
struct ProviderListing {
  bool answered = false;  // false: the API failed this round
  std::string error;
  int64_t taken_ns = 0;  // monotonic time of the listing: an old one is no evidence
  std::map<std::string, Instance> by_id;
};

// Keeps one protected instance: each Tick probes its host (the agent's health over a kept
// SSH session, and the provider's view), asks the health policy, and acts — restarts the
// workload in place, or runs a failover to its end. It also takes the periodic snapshots
// (on the shared WorkPool, never during a failover) and serves operators' requests.
// An instance whose row says a failover runs (failing_over, placing) is resumed here once
// that failover's claim has expired (its process died, or this one paused it: a database
// error, a crash point), after a backoff; a failover another live process runs is left to it.
// Threading: Tick runs on one thread at a time and alone touches the supervisor's state;
// Update and Request only leave messages in an inbox, which the next Tick reads. The
// destructor waits for a snapshot still running for this instance.
class InstanceSupervisor {
 public:
  // `snapshots` (not owned) bounds snapshots across instances.
  InstanceSupervisor(ControllerContext* ctx, ProtectedInstance row, ProtectionSpec spec,
                     WorkPool* snapshots);
  ~InstanceSupervisor();

  // One round. Blocks for as long as a failover it starts or resumes runs.
  void Tick(const ProviderListing& listing, const std::atomic<bool>& stop);
  // The row changed under us (`protect` changed its spec, `pause`, another writer): used
  // from the next Tick, when newer than the row the supervisor holds.
  void Update(ProtectedInstance row);
  // An operator's request taken for this instance (kind failover, snapshot or drill). While a
  // failover of the instance runs it is answered at once — a failover request with
  // `already_failing_over` and the running failover's id — otherwise the next Tick serves it
  // in order; none is dropped. A kill drill kills the host (Fleet::DrillKill) or, where the
  // provider cannot kill a machine, stops its workload and treats the host as lost; detection
  // then runs as for a real failure and the failover is recorded with trigger `drill`.
  void Request(const RequestRow& request);

  // A Tick ended by an exception (ControllerContext::Guarded logged it): the row's detail
  // says so until the next probe's state replaces it; the instance stays watched.
  void MarkFault();

  const std::string& name() const { return name_; }
  // The failover of this instance running now (here or in another process), "" if none.
  std::string running_failover() const;
  int64_t version() const { return version_.load(); }
  std::chrono::milliseconds probe_interval() const {
    return std::chrono::milliseconds(interval_ms_.load());
  }

 private:
  Observation Probe(const ProviderListing& listing);
  // The workload's health URL fetched by the controller itself, where the provider exposes
  // its port (nullopt where it does not).
  std::optional<bool> DirectHealth(const Instance& instance);
  void Act(const Decision& d, const Observation& o, const std::atomic<bool>& stop);
  void RunFailover(FailoverEvent row, const std::atomic<bool>& stop);
  // Begins a failover and runs it; `request_ids` are answered with its id (or why not). When
  // the database is away it begins nothing and answers nothing: kUnavailable (the caller
  // keeps the requests for the next Tick).
  Status StartFailover(const FailoverStart& start, const std::vector<std::string>& request_ids,
                       const std::atomic<bool>& stop);
  // The instance's row says a failover runs: settle it, resume it, or leave it to the live
  // process that holds it.
  void TickClaimed(const std::atomic<bool>& stop);
  // The retry of the failed failover the row points at (MTTR counts from its first failure).
  FailoverStart RetryOfFailed();
  // Answers a request; a failed write is logged (the requester waits and times out).
  void Answer(const std::string& request_id, const std::string& failover_id,
              const std::string& result);
  void RestartWorkload(const Observation& o);
  // The kill of a drill (RequestDrill); `request_id` is "" for a scheduled drill.
  void StartKillDrill(const std::string& request_id);
  // A scheduled drill (spec drill_every) when due: only on a healthy instance, never while any
  // failover runs or a snapshot of this instance is being taken, and skipped when no offer
  // fits the filter (the drill would fail for want of a machine, not test the recovery).
  void MaybeScheduledDrill(const std::atomic<bool>& stop);
  // An armed kill drill whose host still answers after its deadline: no failover.
  void ExpireDrill(const Decision& d);
  // Rents on suspicion after a failed probe of a host the provider rents, where the policy
  // allows it (Speculation).
  void MaybeSpeculate(const Observation& o);
  enum class SnapshotStart { kNotDue, kStarted, kAlreadyRunning, kPoolBusy };
  // Starts the periodic snapshot when due (or `requested`) and a pool slot is free.
  SnapshotStart MaybeSnapshot(bool requested);
  // Runs on the snapshot pool: reads only its arguments and the state store.
  void TakeSnapshot(ProtectedInstance at_start, ProtectionSpec spec);
  // Applies what the inbox holds (a newer row) on the Tick thread.
  void ApplyUpdate();
  // Takes `row` as the instance's truth: its spec (when the stored text changed) and the
  // resumption of a paused instance follow from it, whichever path read it.
  void SetRow(ProtectedInstance row);
  void WaitForSnapshot(std::chrono::nanoseconds at_most);
  // Persists a changed state at once, a changed detail of the same state at most every 10 s.
  void SetState(ProtectionState state, const std::string& detail);
  // Reads the row again; false (keeping what it had) when the database did not answer.
  bool Reload();
  AgentTransport* ProbeTransport();
  HostAddress Host() const;
  bool HasHost() const { return !row_.ssh_host.empty(); }

  ControllerContext* ctx_;
  WorkPool* snapshots_;
  const std::string name_;
  std::atomic<int64_t> version_{0};
  std::atomic<int64_t> interval_ms_{2000};
  // The inbox (other threads write, Tick reads).
  mutable std::mutex mu_;
  std::optional<ProtectedInstance> update_;
  std::deque<RequestRow> requests_;
  // Answers the database did not take yet (request id → failover id, result), retried each
  // Tick: a request is never left unanswered by a live controller.
  std::vector<std::array<std::string, 3>> unanswered_;
  std::string running_failover_;  // what running_failover() says (under mu_)
  // The Tick thread's own; spec_ is parsed from row_.spec_json.
  ProtectedInstance row_;
  ProtectionSpec spec_;
  HealthPolicy policy_;
  std::unique_ptr<AgentTransport> probe_transport_;
  std::string probe_host_;                       // host:port the transport was made for
  std::optional<std::string> snapshot_request_;  // waiting for a slot of the snapshot pool
  // A kill drill under way (the host killed or treated as lost, detection running).
  struct ArmedDrill {
    std::string request_id;  // "" for a scheduled drill
    int64_t deadline_ns = 0;
    bool host_lost = false;  // probes report the host lost (providers that cannot kill)
  };
  std::optional<ArmedDrill> drill_;
  int64_t next_drill_ns_ = -1;
  Speculation speculation_;
  Verdict last_verdict_ = Verdict::kHealthy;
  int64_t next_snapshot_ns_ = -1;
  int64_t retry_failover_ns_ = -1;  // failed: when to try again
  // A failover this process may resume (claimed, or its claim expired): not before this.
  int64_t resume_at_ns_ = 0;
  std::chrono::milliseconds resume_backoff_{0};
  std::string claimed_elsewhere_;   // the failover another process runs (logged once)
  std::string last_state_error_;    // the last failure to write the state (logged once)
  int64_t detail_written_ns_ = -1;  // when health_detail was last persisted
  std::shared_ptr<std::atomic<bool>> snapshot_running_;
};

}  // namespace standby
