// Periodic snapshots of one instance (instance_supervisor.h): through the agent on the
// host, recorded, then pruned to keep_last. Failures are counted and shown; they never
// trigger a failover.
#include "base/strings.h"
#include "failover/instance_supervisor.h"
#include "failover/protected_rows.h"
#include "snapshot/pruner.h"

namespace standby {

void InstanceSupervisor::TakeSnapshot(ProtectedInstance at_start, ProtectionSpec spec) {
  auto transport = LongJobTransport(ctx_, HostOf(at_start, spec.ssh_user));
  StoreAccess store{spec.repo, ctx_->host_store_settings};
  auto snap = HostAgent(transport.get(), &store)
                  .Snapshot(spec.name, spec.workspace, false, ctx_->snapshot_job);
  if (!snap) {
    int failures = 0;
    auto updated = UpdateProtectedRow(ctx_, spec.name, [&](ProtectedInstance& p) {
      // A host replaced meanwhile (a failover) failed the snapshot, not the store.
      if (p.provider_instance_id != at_start.provider_instance_id ||
          p.ssh_host != at_start.ssh_host || p.ssh_port != at_start.ssh_port) {
        return false;
      }
      failures = ++p.consecutive_snapshot_failures;
      return true;
    });
    if (!updated) {
      // The count is a view: the failure itself is still logged and told.
      ctx_->Log(spec.name + ": snapshot failed (the instance stays protected by its last " +
                "snapshot): " + snap.error().message + "; counting it failed too (" +
                updated.error().message + ")");
      ctx_->Notify([&](ControllerObserver& o) {
        o.SnapshotFinished(spec.name, nullptr, 0, snap.error().message);
      });
    } else if (*updated) {
      ctx_->Log(spec.name + ": snapshot failed (" + std::to_string(failures) + " in a row; " +
                "the instance stays protected by its last snapshot): " + snap.error().message);
      ctx_->Notify([&](ControllerObserver& o) {
        o.SnapshotFinished(spec.name, nullptr, failures, snap.error().message);
      });
    }
    return;
  }
  const SnapshotRow taken = SnapshotRowOf(*snap, spec.name, NowMillis(ctx_->clock));
  if (Status recorded = RecordSnapshotTaken(ctx_, taken); !recorded) {
    // The snapshot is in the repository whatever the database says; its age shows once the
    // database answers and the next snapshot is recorded.
    ctx_->Log(spec.name + ": recording snapshot " + taken.snapshot_id +
              " failed: " + recorded.error().message);
  }
  ctx_->Notify([&](ControllerObserver& o) { o.SnapshotFinished(spec.name, &taken, 0, ""); });
  std::string line = spec.name + ": snapshot " + snap->snapshot_id + " (" + snap->snapshot_type +
                     "): " + std::to_string(snap->files_changed) + " of " +
                     std::to_string(snap->files_total) + " files changed, " +
                     HumanBytes(static_cast<uint64_t>(snap->bytes_uploaded)) + " uploaded in " +
                     std::to_string(snap->duration_ms) + " ms";
  auto repo = ctx_->open_store(spec.repo);
  if (repo) {
    PruneOptions prune;
    prune.instance_id = spec.name;
    prune.keep_last = static_cast<size_t>(spec.keep_last);
    prune.clock = ctx_->clock;
    prune.executor = ctx_->executor;
    auto pruned = PruneSnapshots(repo->get(), prune);
    if (pruned && !pruned->removed.empty()) {
      line += "; pruned " + std::to_string(pruned->removed.size()) + " (keeping " +
              std::to_string(spec.keep_last) + ")";
    } else if (!pruned) {
      line += "; prune deferred: " + pruned.error().message;
    }
  }
  ctx_->Log(line);
}

}  // namespace standby
