#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "env/stop_signal.h"
#include "failover/controller_context.h"
#include "failover/fencing.h"
#include "failover/protection_spec.h"
#include "failover/vocabulary.h"
#include "remote/host_agent.h"
#include "snapshot/manifest.h"
#include "state/state_store.h"

namespace standby {

// Starts a failover: the failover_events row in phase `detected`, claimed by this process,
// then the protected instance in state failing_over pointing at it, written with optimistic
// concurrency, so two controllers (or a request racing a detection) never start two
// failovers for one instance. The row goes first: a row whose instance never pointed at it
// is recognised as never begun (AbandonOrphanFailovers) and nothing ran for it. kConflict
// when a failover already runs. `first_failure_at_ms` is when the first probe failed (the
// MTTR's start; for a manual failover, now); `retry_of` names a failed failover this one
// tries again.
struct FailoverStart {
  Trigger trigger = Trigger::kHostDead;
  bool planned = false;
  bool no_stop = false;  // planned: the old workload serves until the new host passes
  int64_t first_failure_at_ms = 0;
  std::string reason;
  std::string retry_of;
};
Result<FailoverEvent> BeginFailover(ControllerContext* ctx, const ProtectedInstance& instance,
                                    const FailoverStart& start);

// Gives up an unfinished failover (its instance is no longer protected, or it never began):
// destroys its replacement and whatever its race left, and records it failed with `reason`.
// Only when this process holds (or can take) its claim: false, doing nothing, when another
// live process runs it.
bool AbandonFailover(ControllerContext* ctx, FailoverEvent row, const std::string& reason);

// Unfinished failovers nobody may resume — their instance is gone, or never pointed at them
// (a process died between BeginFailover's two writes) — whose claim has expired: abandoned.
void AbandonOrphanFailovers(ControllerContext* ctx);

// Destroys `id` (rented for `instance`), saying so in the log when the provider does not
// confirm it (it is then destroy-pending and retried until it does: ownership.h).
void DestroyOrPending(ControllerContext* ctx, const std::string& id, const std::string& instance);

// Destroys what the races of failover `row` left rented — found by its label, and machines
// rented on suspicion for its instance (a race may have taken one as its winner, then its
// process died) — but `keep` and any machine a protected instance or a running failover
// still names, telling `on_each` (may be null) about each first. kUnavailable when a listing
// failed (a destroy that is not confirmed is pending and retried: ownership.h); the caller
// records the sweep as pending.
Status DestroyRaceLeftovers(ControllerContext* ctx, const FailoverEvent& row,
                            const std::set<std::string>& keep,
                            const std::function<void(const Instance&)>& on_each);

// A finished failover's outcome on its protected instance, when the instance still points at
// it in state failing_over or placing: done → healthy on the new host (its failover counted
// once, its MTTR kept); failed → failed, except a planned move that never stopped nor
// fenced the old host (the instance stays healthy where it was). False when there was
// nothing to apply (the instance is gone, or already moved on).
Result<bool> ApplyFailoverOutcome(ControllerContext* ctx, const FailoverEvent& row);

// A transport for a long host job (restore, snapshot): 30 s to say hello, no limit on the
// job, at most 30 s of silence (the agent's heartbeat comes every 5 s).
std::unique_ptr<AgentTransport> LongJobTransport(ControllerContext* ctx, const HostAddress& host);

// The failover state machine of one instance (docs/design.md, "The failover state machine"):
//
//   unplanned: detected → replacing (fencing ‖ provisioning ‖ locating) → restoring
//              → validating → fencing → starting → checking → done | failed
//   planned, old host answering (a pre-copy move):
//              detected → replacing (provisioning ‖ locating; the old host keeps serving)
//              → restoring (the latest snapshot) → validating → final_snapshot (the old
//              workload stops; its last changes are snapshotted) → restoring (only that
//              delta) → validating → fencing → starting → checking → done
//   planned --no-stop (make before break): … → validating → fencing (skipped) → starting
//              → checking → the old host fenced → done
//
// `fencing` is the gate: the new workload never starts before the old host is fenced
// (fencing.h says what that means per provider), unless the spec's fence_unconfirmed is
// `proceed`, in which case an unreachable old host is left `pending` — recorded, told, and
// fenced by the controller the moment it answers (PendingFences). Each phase is persisted
// before its side effects, so a controller killed at any moment resumes the same failover:
// `replacing` destroys whatever its interrupted race left (found by the failover's label)
// and races again; `restoring` reruns the restore over what is there; the later phases are
// idempotent. While it runs, the failover's claim is renewed; a renewal that finds another
// process holding it stops this run at once (it acts no more). A replacement that dies or
// fails during restore, validation, start or check is blacklisted and destroyed, and the
// machine after it is tried, up to max_attempts; then the failover is `failed` with its
// phase and reason. A provider that cannot be used (outage, 429s) costs no attempt: the
// race is tried again after a backoff.
class Recovery {
 public:
  Recovery(ControllerContext* ctx, ProtectionSpec spec, FailoverEvent row);
  // Destroys head-start machines no race took (a failover stopped or failed before racing).
  ~Recovery();

  // Runs to done or failed and returns the final row. An error means the run stopped early
  // with its row persisted (a crash point, `stop` set, its claim lost, the database away):
  // resuming it continues there.
  Result<FailoverEvent> Run(const std::atomic<bool>* stop);

  const FailoverEvent& row() const { return row_; }
  // Machines rented on suspicion before the failover began (failover/speculation.h): the
  // first race starts with them. Whatever the failover does not use, it destroys.
  void SetHeadStart(std::vector<HeadStartCandidate> machines) { head_start_ = std::move(machines); }

 private:
  Status Persist(FailoverPhase phase);
  Status Save();
  // Tells ctx's observers when the phase changed since it was last told.
  void Notify();
  void Timing(const std::string& phase, int64_t start_ms, bool ok, const std::string& error = "");
  Status CheckStop() const;
  bool Halted() const;
  // Renews the claim every ctx->claim_renew until `done_`; halts the run when it is lost.
  void KeepClaim();

  struct Located {
    std::optional<SnapshotHeader> header;  // nullopt: the instance has no snapshot yet
    std::string error;                     // the store could not be read
  };

  // Whether this is a pre-copy planned move (the old host answered when it began).
  bool PreCopy() const;
  Status FinalSnapshot();
  Status Replace();
  Located Locate();
  Status Provision();
  void DestroyLeftovers();
  Status Restore();
  Status Validate();
  Status FenceGate();
  Status Start();
  Status Check();
  Status Finish();
  // A planned move whose final snapshot failed on a host that still answers: the old
  // workload is started again, the replacement destroyed, the move recorded as failed and
  // the instance left healthy where it was (nothing was lost, nothing moved).
  Status AbandonPlannedMove(const std::string& why);
  // Fences the old host, retrying with backoff while `keep_trying()` (at least once).
  FenceResult FenceWithRetries(const std::function<bool()>& keep_trying);
  void RecordFence(const FenceResult& fenced);
  // The replacement failed in `phase`: blacklist and destroy it, then try another machine
  // or give up. Returns the error to stop with, if any.
  Status ReplacementFailed(const std::string& phase, const Error& error);
  // Blacklists and destroys the replacement and forgets it.
  void DiscardReplacement(const std::string& phase, const Error& error);
  Status Fail(const std::string& phase, const std::string& reason);
  void AddNote(const std::string& note);

  HostAddress NewHost() const;
  // Ends this process's claim when the run stopped because the process is stopping.
  void ReleaseClaimIfStopped();
  // ApplyFailoverOutcome, again and again (backing off, until stopped) while the database
  // is away or other writers race it.
  Status WriteOutcome();
  // A transport for a long job on `host`: 30 s to start, then silence (no heartbeat) for
  // 30 s means the host stalled; stoppable with the controller.
  std::unique_ptr<AgentTransport> JobTransport(const HostAddress& host);
  // How hosts reach the repository, one for the whole failover (its signer is shared).
  const StoreAccess& HostStore() const { return host_store_; }
  OldHost Old() const;

  ControllerContext* ctx_;
  ProtectionSpec spec_;
  StoreAccess host_store_;
  FailoverEvent row_;
  nlohmann::json timings_;
  const std::atomic<bool>* stop_ = nullptr;
  std::atomic<bool> halt_{false};  // the claim was lost or the caller stopped: act no more
  StopSignal cancel_;              // set with halt_: cuts a race short
  StopSignal done_;                // the run is over: the claim keeper ends
  std::mutex timings_mu_;          // fencing and locating report from their tasks
  bool no_snapshot_ = false;
  std::vector<HeadStartCandidate> head_start_;
  std::string notified_phase_;
  int validation_failures_ = 0;
  std::chrono::milliseconds provider_backoff_{0};  // the provider could not be used
};

}  // namespace standby
