#include "snapshot/pruner.h"

#include <set>
#include <unordered_set>

#include "base/log.h"
#include "base/strings.h"
#include "snapshot/lock.h"
#include "snapshot/pack.h"
#include "snapshot/repository.h"

namespace standby {
namespace {

// The instances that have index files (index/<instance>/<id>).
Result<std::vector<std::string>> IndexedInstances(ObjectStore* store) {
  ASSIGN_OR_RETURN(auto objects, ListAll(store, "index/"));
  std::vector<std::string> instances;
  for (const ObjectInfo& o : objects) {
    std::string rest = o.key.substr(6);
    size_t slash = rest.find('/');
    if (slash == std::string::npos) continue;
    std::string instance = rest.substr(0, slash);
    if (instances.empty() || instances.back() != instance) instances.push_back(instance);
  }
  return instances;
}

// Whether `pack_key` (packs/<instance>/…) belongs to one of `instances`.
bool InstanceOf(const std::string& pack_key, const std::set<std::string>& instances) {
  const std::vector<std::string> parts = SplitString(pack_key, '/');
  return parts.size() >= 2 && instances.contains(parts[1]);
}

}  // namespace

Result<PruneResult> PruneSnapshots(ObjectStore* store, const PruneOptions& options) {
  if (options.keep_last < 1) {
    return InvalidArgumentError(
        "--keep-last must be at least 1 (the latest snapshot is always kept)");
  }
  RETURN_IF_ERROR(ValidateInstanceId(options.instance_id));
  ASSIGN_OR_RETURN(auto repo, Repository::Open(store, /*create=*/false));
  ASSIGN_OR_RETURN(auto lock,
                   RepoLock::Acquire(store, LockKind::kExclusive, "snapshot prune", options.clock,
                                     options.lock_wait, nullptr, options.executor));
  PruneResult result;
  ASSIGN_OR_RETURN(auto latest, repo->ReadLatest(options.instance_id));
  std::vector<UnreadableObject> unreadable;
  ASSIGN_OR_RETURN(auto snapshots, repo->ListSnapshots(options.instance_id, &unreadable));
  if (snapshots.empty() && !latest) {
    // An instance whose only snapshots were interrupted has packs to collect: not unknown.
    ASSIGN_OR_RETURN(auto page, store->List("packs/" + options.instance_id + "/", "", 1));
    if (page.objects.empty()) {
      return NotFoundError("instance " + options.instance_id + " has no snapshots in " +
                           store->Url() + "; `standby snapshot list` shows the instances");
    }
  }
  size_t cut = snapshots.size() > options.keep_last ? snapshots.size() - options.keep_last : 0;
  for (size_t i = 0; i < snapshots.size(); ++i) {
    const std::string& id = snapshots[i].snapshot_id;
    if (i < cut && (!latest || *latest != id)) {
      RETURN_IF_ERROR(repo->DeleteSnapshot(options.instance_id, id));
      result.removed.push_back(id);
    } else {
      result.kept.push_back(id);
    }
  }

  // Mark: every pack any remaining snapshot of any instance references. An instance with an
  // object that cannot be read (a host may have written garbage under its own prefix) keeps
  // every pack it has, and is reported; the others are collected as usual.
  unreadable.clear();
  ASSIGN_OR_RETURN(auto remaining, repo->ListSnapshots(std::nullopt, &unreadable));
  std::unordered_set<std::string> live;  // pack keys
  for (const SnapshotHeader& h : remaining) {
    auto manifest = repo->LoadManifest(h.instance_id, h.snapshot_id);
    if (!manifest) {
      if (!IsUnreadableObject(manifest.error())) {
        return manifest.error().WithContext("garbage collection skipped, nothing deleted beyond " +
                                            std::to_string(result.removed.size()) + " snapshots");
      }
      unreadable.push_back({h.instance_id,
                            SnapshotPrefix(h.instance_id, h.snapshot_id) + "manifest",
                            manifest.error().message});
      continue;
    }
    for (const ChunkRef& c : manifest->chunks) live.insert(PackKey(h.instance_id, c.pack));
  }
  std::set<std::string> kept_whole;  // instances whose every pack stays
  for (const UnreadableObject& u : unreadable) kept_whole.insert(u.instance_id);

  // Sweep, per instance: its new index first, then its old index files; then dead packs.
  ASSIGN_OR_RETURN(auto instances, IndexedInstances(store));
  for (const std::string& instance : instances) {
    if (kept_whole.contains(instance)) continue;
    std::vector<std::string> old_index_keys;
    std::vector<PackRecord> indexed;
    auto loaded = repo->LoadIndex(instance, &old_index_keys, &indexed);
    if (!loaded) {
      if (!IsUnreadableObject(loaded.error())) return loaded.error();
      unreadable.push_back({instance, "index/" + instance + "/", loaded.error().message});
      kept_whole.insert(instance);
      continue;
    }
    std::vector<PackRecord> kept_records;
    std::unordered_set<Hash256, Hash256Hasher> recorded;
    for (PackRecord& record : indexed) {
      if (live.contains(PackKey(instance, record.pack_id)) &&
          recorded.insert(record.pack_id).second) {
        kept_records.push_back(std::move(record));
      }
    }
    std::string new_index;
    if (!kept_records.empty()) {
      ASSIGN_OR_RETURN(new_index, repo->WriteIndex(instance, kept_records));
    }
    for (const std::string& key : old_index_keys) {
      if (key != new_index) RETURN_IF_ERROR(store->Delete(key));
    }
  }
  ASSIGN_OR_RETURN(auto packs, ListAll(store, "packs/"));
  for (const ObjectInfo& pack : packs) {
    if (live.contains(pack.key) || (!kept_whole.empty() && InstanceOf(pack.key, kept_whole))) {
      ++result.packs_kept;
      continue;
    }
    RETURN_IF_ERROR(store->Delete(pack.key));
    ++result.packs_deleted;
    result.bytes_freed += pack.size;
  }
  // Partial uploads of snapshots that died (Ctrl-C, kill -9) and are older than any upload.
  const int64_t age_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(kAbandonedUploadAge).count();
  ASSIGN_OR_RETURN(result.abandoned_bytes_freed,
                   store->RemoveAbandonedUploads(options.clock->Now() - age_ns));
  result.bytes_freed += result.abandoned_bytes_freed;
  for (const UnreadableObject& u : unreadable) {
    spdlog::warn("prune: {} is unreadable ({}); every pack of instance {} was kept",
                 EscapeControl(u.key), EscapeControl(u.problem),
                 u.instance_id.empty() ? "?" : EscapeControl(u.instance_id));
    result.unreadable.push_back(EscapeControl(u.key) + ": " + EscapeControl(u.problem));
  }
  RETURN_IF_ERROR(lock->Release());
  spdlog::debug("prune: removed {} snapshots, deleted {} packs ({} bytes), kept {} packs",
                result.removed.size(), result.packs_deleted, result.bytes_freed, result.packs_kept);
  return result;
}

}  // namespace standby
