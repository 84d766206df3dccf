#pragma once

#include <chrono>
#include <string>

#include "base/result.h"
#include "env/clock.h"
#include "env/file_system.h"
#include "env/stop_signal.h"
#include "snapshot/manifest.h"
#include "store/object_store.h"

namespace standby {

struct SnapshotOptions {
  std::string instance_id;
  std::string workspace;  // absolute path of the directory to snapshot
  Compression compression = Compression::kLz4;
  size_t threads = 0;                   // readers/chunkers; 0 = one per core
  size_t pack_size = 16 * 1024 * 1024;  // target pack size in bytes
  bool force_full = false;              // ignore the parent: re-read every file
  std::chrono::seconds lock_wait{60};   // how long to wait for a running prune
  // The caller holds a shared repository lock for this snapshot (the controller does, for a
  // host that may not write locks): none is taken here.
  bool lock_held_by_caller = false;
  FileSystem* fs = FileSystem::Real();
  Clock* clock = nullptr;  // required: the time seam
  // When set (Ctrl-C), the snapshot stops at the next chunk: uploads in flight finish, no
  // index, manifest or latest pointer is written, its lock is released, and kCancelled is
  // returned. Not owned.
  const StopSignal* cancel = nullptr;
};

struct SnapshotResult {
  SnapshotHeader header;
  uint64_t chunks_total = 0;
  uint64_t chunks_uploaded = 0;
  uint64_t packs_uploaded = 0;
  std::vector<std::string> skipped;  // entries of unsupported types
};

// Takes a snapshot of `options.workspace` for `options.instance_id`.
//
// Files whose (size, mtime, ctime, inode, device) match the instance's latest snapshot reuse
// its chunks without being read; other files are cut with FastCDC, and only chunks the
// repository does not hold yet are compressed and uploaded. Objects are written in the
// order packs → index → manifest (+ header, metadata) → latest pointer, so a failure at any
// point leaves `latest` on the previous complete snapshot. A file that keeps changing while
// it is read (three attempts) fails the snapshot. The workspace is checked before anything
// is written, so a wrong path leaves no new repository behind; a repository directory inside
// the workspace is left out of the snapshot with a warning.
Result<SnapshotResult> CreateSnapshot(ObjectStore* store, const SnapshotOptions& options);

}  // namespace standby
