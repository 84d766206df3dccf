#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"
#include "env/clock.h"
#include "env/executor.h"
#include "store/object_store.h"

namespace standby {

struct PruneOptions {
  std::string instance_id;
  size_t keep_last = 1;  // ≥ 1
  std::chrono::seconds lock_wait{0};
  Clock* clock = nullptr;                    // required: the time seam
  Executor* executor = Executor::Threads();  // where the lock's refresher runs
};

struct PruneResult {
  std::vector<std::string> removed;  // snapshot ids
  std::vector<std::string> kept;
  uint64_t packs_deleted = 0;
  uint64_t bytes_freed = 0;
  uint64_t packs_kept = 0;
  uint64_t abandoned_bytes_freed = 0;  // partial uploads of dead writers (in bytes_freed too)
  // Objects that could not be read ("KEY: problem"); their instances' packs were all kept.
  std::vector<std::string> unreadable;
};

// How old a partial upload must be before prune removes it: far beyond any live upload.
inline constexpr std::chrono::hours kAbandonedUploadAge{1};

// Removes all but the newest `keep_last` snapshots of an instance (never the one `latest`
// names), then garbage-collects: packs no remaining snapshot of any instance references are
// deleted, after a new index listing only the kept packs has replaced the old index files.
// Runs under the exclusive repository lock, so it never deletes a pack a concurrent
// snapshot is writing or reusing; it fails (kConflict, retryable) while a snapshot runs.
// An instance with a header, manifest or index that cannot be read keeps every pack it has
// (reported in `unreadable`); the other instances are collected as usual. A store that does
// not answer ends the prune with nothing more deleted. Partial uploads
// older than kAbandonedUploadAge are removed too. An instance without snapshots or packs is
// kNotFound (one whose snapshots were all interrupted still has its packs collected).
Result<PruneResult> PruneSnapshots(ObjectStore* store, const PruneOptions& options);

}  // namespace standby
