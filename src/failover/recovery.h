#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "failover/controller_context.h"
#include "failover/protection_spec.h"
#include "failover/vocabulary.h"
#include "remote/host_agent.h"
#include "snapshot/manifest.h"
#include "state/state_store.h"

namespace standby {

// Starts a failover: the failover_events row in phase `detected` and the protected instance
// in state failing_over pointing at it, written with optimistic concurrency, so two
// controllers (or a request racing a detection) never start two failovers for one instance.
// kConflict when one already runs. `first_failure_at_ms` is when the first probe failed
// (the MTTR's start; for a manual failover, now).
Result<FailoverEvent> BeginFailover(ControllerContext* ctx, const ProtectedInstance& instance,
                                    Trigger trigger, bool planned, int64_t first_failure_at_ms,
                                    const std::string& reason);

// Gives up an unfinished failover whose instance is no longer protected: destroys its
// replacement and whatever its race left, and records it failed with `reason`.
void AbandonFailover(ControllerContext* ctx, FailoverEvent row, const std::string& reason);

// Destroys what the races of failover `failover_id` left rented (found by their label),
// telling `on_each` (may be null) about each first. A failed listing leaves them to the
// reaper.
void DestroyRaceLeftovers(ControllerContext* ctx, const std::string& failover_id,
                          const std::function<void(const Instance&)>& on_each);

// A transport for a long host job (restore, snapshot): 30 s to say hello, no limit on the
// job, at most 30 s of silence (the agent's heartbeat comes every 5 s).
std::unique_ptr<AgentTransport> LongJobTransport(ControllerContext* ctx, const HostAddress& host);

// The failover state machine of one instance (docs/design.md, "The failover state machine"):
//
//   detected → [final_snapshot] → replacing (fencing ‖ provisioning ‖ locating snapshot)
//            → restoring → validating → starting → checking → done | failed
//
// Each phase is persisted (the failover_events row) before its side effects, so a
// controller killed at any moment resumes the same failover from its last phase: a
// replacing phase destroys whatever its interrupted race left (found by the failover's
// label) and races again; restoring reruns the restore over what is there; the later
// phases are idempotent. A replacement that dies or fails during restore, validation, start
// or check is blacklisted and destroyed, and the machine after it is tried, up to
// max_attempts; then the failover is `failed` with its phase and reason.
class Recovery {
 public:
  Recovery(ControllerContext* ctx, ProtectionSpec spec, FailoverEvent row);
  // Destroys head-start machines no race took (a failover stopped or failed before racing).
  ~Recovery();

  // Runs to done or failed and returns the final row. An error means the run stopped early
  // with its row persisted (a crash point, or `stop` set): resuming it continues there.
  Result<FailoverEvent> Run(const std::atomic<bool>* stop);

  const FailoverEvent& row() const { return row_; }
  // Machines rented on suspicion before the failover began (failover/speculation.h): the
  // first race starts with them. Whatever the failover does not use, it destroys.
  void SetHeadStart(std::vector<HeadStartCandidate> machines) { head_start_ = std::move(machines); }

 private:
  struct Phase {
    std::string name;
    int64_t start_ms;
  };

  Status Persist(FailoverPhase phase);
  Status Save();
  // Tells ctx's observers when the phase changed since it was last told.
  void Notify();
  void Timing(const std::string& phase, int64_t start_ms, bool ok, const std::string& error = "");
  Status CheckStop() const;

  // What fencing and locating found; they run beside the race and report when joined.
  struct Fenced {
    std::string fence;  // confirmed | unconfirmed
  };
  struct Located {
    std::optional<SnapshotHeader> header;  // nullopt: the instance has no snapshot yet
    std::string error;                     // the store could not be read
  };

  Status FinalSnapshot();
  Status Replace();
  Fenced Fence();
  Located Locate();
  Status Provision();
  void DestroyLeftovers();
  Status Restore();
  Status Validate();
  Status Start();
  Status Check();
  Status Finish();
  // The replacement failed in `phase`: blacklist and destroy it, then try another machine
  // or give up. Returns the error to stop with, if any.
  Status ReplacementFailed(const std::string& phase, const Error& error);
  // Blacklists and destroys the replacement and forgets it.
  void DiscardReplacement(const std::string& phase, const Error& error);
  Status Fail(const std::string& phase, const std::string& reason);

  HostAddress NewHost() const;
  // Applies `change` to the protected instance, again and again (backing off, until stopped)
  // while the database is away or other writers race it. False: the instance is gone.
  Result<bool> WriteInstance(const std::function<void(ProtectedInstance&)>& change);
  // A transport for a long job on `host`: 30 s to start, then silence (no heartbeat) for
  // 30 s means the host stalled; stoppable with the controller.
  std::unique_ptr<AgentTransport> JobTransport(const HostAddress& host);
  // How hosts reach the repository, one for the whole failover (its signer is shared).
  const StoreAccess& HostStore() const { return host_store_; }

  ControllerContext* ctx_;
  ProtectionSpec spec_;
  StoreAccess host_store_;
  FailoverEvent row_;
  nlohmann::json timings_;
  const std::atomic<bool>* stop_ = nullptr;
  std::mutex timings_mu_;  // Fence and Locate report from their threads
  bool no_snapshot_ = false;
  std::vector<HeadStartCandidate> head_start_;
  std::string notified_phase_;
  int validation_failures_ = 0;
};

}  // namespace standby
