#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "env/file_system.h"

namespace standby {

struct ScannedEntry {
  std::string path;  // relative to the root, '/'-separated
  FileStat stat;
  std::string symlink_target;
};

struct ScanResult {
  std::vector<ScannedEntry> entries;  // sorted by path: parents before children
  std::vector<std::string> skipped;   // sockets, FIFOs, devices: not snapshotted
};

// Walks `root` without following symlinks. Regular files, directories (empty ones too) and
// symlinks are listed; other file types are skipped with a warning. Any directory or link
// that cannot be read fails the scan with the path and the reason.
// Paths in `exclude` (relative to `root`) are left out with everything under them.
Result<ScanResult> ScanWorkspace(FileSystem* fs, const std::string& root,
                                 const std::vector<std::string>& exclude = {});
// The checks ScanWorkspace starts with: `root` exists and is a directory.
Status CheckWorkspaceDirectory(FileSystem* fs, const std::string& root);

}  // namespace standby
