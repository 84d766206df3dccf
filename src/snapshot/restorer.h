#pragma once

#include <functional>
#include <string>

#include "base/result.h"
#include "env/clock.h"
#include "env/file_system.h"
#include "env/stop_signal.h"
#include "snapshot/manifest.h"
#include "snapshot/progress.h"
#include "snapshot/verifier.h"
#include "store/object_store.h"

namespace standby {

struct RestoreOptions {
  std::string target;  // absolute path
  // false: the target must be missing or empty. true: make an existing target equal to the
  // snapshot, rewriting only files whose content differs and removing what the snapshot lacks.
  bool overwrite = false;
  // Restore symlinks whose target leaves the restored tree (refused by default).
  bool allow_external_symlinks = false;
  // Restore setuid/setgid bits as the snapshot has them (default: cleared; a snapshot written
  // by a rented host must not plant a setuid binary).
  bool keep_special_bits = false;
  size_t threads = 0;  // parallel fetches; 0 = min(store concurrency, 4 × cores)
  FileSystem* fs = FileSystem::Real();
  Clock* clock = nullptr;  // required: the time seam
  // Receives human progress lines ("Downloading: 40% ...", "✓ Restored ..."); may be empty.
  std::function<void(const std::string&)> progress;
  // Receives the same progress as numbers (for the agent protocol); may be empty.
  std::function<void(const ProgressEvent&)> progress_events;
  // When set (Ctrl-C), the restore stops at the next chunk and fails with kCancelled, cleaned
  // up as any failure is. Not owned.
  const StopSignal* cancel = nullptr;
};

struct RestoreResult {
  std::string snapshot_id;
  uint64_t files_expected = 0;    // regular files in the snapshot
  uint64_t files_restored = 0;    // regular files in place with the snapshot's content
  uint64_t files_unchanged = 0;   // overwrite: already right, not rewritten
  uint64_t files_removed = 0;     // overwrite: entries the snapshot lacks
  uint64_t bytes_restored = 0;    // size of the files in place
  uint64_t bytes_downloaded = 0;  // stored bytes fetched from the store
  uint64_t bytes_reused = 0;      // overwrite: chunk bytes copied from the old tree
  int64_t duration_ms = 0;
  Validation validation = Validation::kFailed;
};

// Restores `manifest` from `store` into options.target.
//
// The manifest is validated first (safe paths, symlinks) and nothing is written if it fails.
// Packs are fetched with parallel ranged GETs; every chunk is checked against its SHA-256
// before it is written. Each file is assembled under a hidden temporary name in its own
// directory and renamed into place only when complete, then its mode and mtime are set;
// on failure the temporary files are removed and directories get their modes, so a file
// under its final name always has the snapshot's content (or, with overwrite, its previous
// content), and the error says how many files are in place and that a rerun with
// --overwrite resumes (reusing them). A damaged chunk is named with a file it belongs to.
Result<RestoreResult> RestoreSnapshot(ObjectStore* store, const Manifest& manifest,
                                      const RestoreOptions& options);

}  // namespace standby
