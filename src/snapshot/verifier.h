#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "env/file_system.h"
#include "snapshot/manifest.h"
#include "store/object_store.h"

namespace standby {

// The seed's {"validation": "ok"|"failed"}: whether a tree matches its snapshot.
enum class Validation { kOk, kFailed };
std::string_view ValidationName(Validation v);
std::optional<Validation> ParseValidation(std::string_view name);

struct Mismatch {
  std::string path;
  std::string
      problem;  // missing | type | size | mode | mtime | content | symlink_target | unreadable
  std::string detail;
};

struct DirectoryVerification {
  Validation validation = Validation::kFailed;
  uint64_t files_expected = 0;  // regular files in the snapshot
  uint64_t files_restored = 0;  // regular files present with the right content
  uint64_t entries_checked = 0;
  uint64_t bytes_verified = 0;
  std::vector<Mismatch> mismatches;
  std::vector<std::string> extra;  // present in the directory, absent from the snapshot
};

// Re-reads `dir` and compares it with `manifest`: every entry's type, mode (as stored, or with
// setuid and setgid cleared as a restore leaves them by default: kModeRestoredByDefault) and (for
// files) size, mtime and content: each file is split at the snapshot's chunk boundaries and every
// piece's SHA-256 compared with the chunk id. Extra entries are listed but do not fail the
// validation. Reads files in parallel on `threads` threads (0 = one per core).
Result<DirectoryVerification> VerifyDirectory(const Manifest& manifest, const std::string& dir,
                                              FileSystem* fs, size_t threads = 0);

struct DataVerification {
  uint64_t chunks_checked = 0;
  uint64_t bytes_checked = 0;  // stored bytes read
  uint64_t packs = 0;
  std::vector<std::string> problems;  // one line per missing pack or damaged chunk
};

// Fetches every chunk `manifest` references and checks that it decodes to its SHA-256 id.
// Problems are collected, not returned as an error; an error means the check itself could
// not run (e.g. the store is unreachable).
Result<DataVerification> VerifySnapshotData(ObjectStore* store, const Manifest& manifest,
                                            size_t threads = 0);

}  // namespace standby
