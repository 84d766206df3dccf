#include "failover/pending_cleanups.h"

#include <set>

#include "failover/fencing.h"
#include "failover/protection_spec.h"
#include "failover/recovery.h"
#include "failover/speculation.h"
#include "provision/ownership.h"

namespace standby {

void PendingCleanups::RetryFences() {
  auto rows = ctx_->state->ListFailoverEvents({.cleanup_pending_only = true});
  if (!rows) return;  // the next pass
  for (FailoverEvent& row : *rows) {
    // A pending fence is retried while its failover still starts and checks the new host
    // too (the old one may hold what the new one needs: a port, a lock); the failover takes
    // the confirmation over when it next writes its row.
    if (row.fence == "pending") RetryFence(row);
  }
}

void PendingCleanups::GiveBackOrphanedSpeculation() {
  auto instances = ctx_->state->ListProtectedInstances();
  if (!instances) return;  // the next pass
  std::set<std::string> named;
  for (const ProtectedInstance& p : *instances) named.insert(p.provider_instance_id);
  // Every failover's replacement, finished ones too: a failover's row ends before its outcome
  // reaches the instance, so a replacement may be named by its row alone (once, at start).
  if (auto failovers = ctx_->state->ListFailoverEvents({})) {
    for (const FailoverEvent& e : *failovers) named.insert(e.new_instance_id);
  } else {
    return;
  }
  for (const ProtectedInstance& p : *instances) {
    auto rented = ctx_->fleet->provider()->List(SpeculativeLabelPrefix(ctx_, p.instance_id));
    if (!rented) return;  // the next pass
    for (const Instance& i : *rented) {
      if (named.contains(i.id) || i.created_unix_ms >= started_at_ms_) continue;
      ctx_->Log(p.instance_id + ": destroying " + i.id +
                ", rented on suspicion by a controller that stopped");
      DestroyOrPending(ctx_, i.id, p.instance_id);
    }
  }
  speculation_swept_ = true;
}

void PendingCleanups::RetryTheRest() {
  if (!speculation_swept_) GiveBackOrphanedSpeculation();
  if (auto rows = ctx_->state->ListFailoverEvents({.cleanup_pending_only = true})) {
    for (FailoverEvent& row : *rows) {
      if (row.leftovers_pending && row.completed_at > 0) RetryLeftovers(row);
    }
  }
#ifdef STANDBY_PLANTED_BUG_NEVER_RETRY_PENDING_DESTROY
  // The simulation's planted bug (a test build only): a pending destroy is never retried.
  Result<PendingDestroys> destroys = PendingDestroys{};
#else
  auto destroys = RetryPendingDestroys(ctx_->fleet->provider(), ctx_->state, ctx_->clock);
#endif
  if (destroys) {
    for (const std::string& id : destroys->confirmed) {
      ctx_->Log("pending destroy of instance " + id + " confirmed");
    }
  }
  AbandonOrphanFailovers(ctx_);
}

void PendingCleanups::RetryFence(FailoverEvent row) {
  OldHost old;
  old.instance = row.instance_id;
  old.provider = row.provider;
  old.provider_instance_id = row.original_instance_id;
  std::chrono::milliseconds timeout(3000);
  std::string user = row.original_ssh_user.empty() ? "root" : row.original_ssh_user;
  auto instance = ctx_->state->GetProtectedInstance(row.instance_id);
  if (!instance) return;  // the database is away: the next pass fences with the spec
  if (*instance) {        // (unprotected since: the fence needs no workspace or workload)
    if (auto spec = SpecFromJson((*instance)->spec_json)) {
      old.workspace = spec->workspace;
      old.workload = spec->workload;
      timeout = spec->policy.probe_timeout;
      if (row.original_ssh_user.empty()) user = spec->ssh_user;
    }
  }
  if (!row.original_ssh_host.empty()) {
    old.ssh = {user, row.original_ssh_host, static_cast<uint16_t>(row.original_ssh_port),
               row.original_instance_id};
    old.ssh.connect_timeout = timeout;
  }
  FenceResult fenced = FenceOldHost(ctx_, old, timeout);
  if (!fenced.confirmed) {
    if (last_failure_[row.failover_id] != fenced.detail) {
      last_failure_[row.failover_id] = fenced.detail;
      ctx_->Log(row.instance_id + ": fence of the old host of failover " + row.failover_id +
                " still pending: " + fenced.detail);
    }
    return;
  }
  last_failure_.erase(row.failover_id);
  row.fence = "confirmed";
  row.fenced_at = NowMillis(ctx_->clock);
  row.fence_detail = fenced.detail + " (after the failover, once the old host could be reached)";
  auto recorded = ctx_->state->SetFailoverFence(row.failover_id, "pending", row.fence,
                                                row.fenced_at, row.fence_detail);
  ctx_->Log(
      row.instance_id + ": old host of failover " + row.failover_id + " fenced: " + fenced.detail +
      (recorded
           ? ""
           : " (recording it failed: " + recorded.error().message + "; fenced again next pass)"));
  if (recorded && *recorded) ctx_->Notify([&](ControllerObserver& o) { o.FenceChanged(row); });
}

void PendingCleanups::RetryLeftovers(FailoverEvent row) {
  // Its winner carries the same label: it serves (or was destroyed with the failover).
  Status swept = DestroyRaceLeftovers(ctx_, row, {row.new_instance_id}, [&](const Instance& i) {
    ctx_->Log(row.instance_id + ": destroying " + i.id + ", left by a race of failover " +
              row.failover_id);
  });
  if (!swept) return;  // the next pass
  // Swept again next pass if this write fails (the sweep is idempotent).
  ctx_->state->SetFailoverLeftoversPending(row.failover_id, false).IgnoreError();
}

}  // namespace standby
