#include "snapshot/scanner.h"

#include <algorithm>

#include "base/log.h"

namespace standby {
namespace {

Status Walk(FileSystem* fs, const std::string& root, const std::string& relative,
            const std::vector<std::string>& exclude, ScanResult* out) {
  std::string dir = relative.empty() ? root : JoinPath(root, relative);
  auto names = fs->ListDir(dir);
  if (!names) return names.error().WithContext("cannot read workspace directory");
  for (const std::string& name : *names) {
    std::string path = relative.empty() ? name : relative + "/" + name;
    if (std::find(exclude.begin(), exclude.end(), path) != exclude.end()) continue;
    std::string full = JoinPath(root, path);
    auto stat = fs->Lstat(full);
    if (!stat) {
      if (stat.error().code == ErrorCode::kNotFound) continue;  // removed while scanning
      return stat.error().WithContext("cannot stat workspace entry");
    }
    switch (stat->type) {
      case FileType::kRegular:
        out->entries.push_back({path, *stat, {}});
        break;
      case FileType::kDirectory:
        out->entries.push_back({path, *stat, {}});
        RETURN_IF_ERROR(Walk(fs, root, path, exclude, out));
        break;
      case FileType::kSymlink: {
        auto target = fs->ReadLink(full);
        if (!target) return target.error().WithContext("cannot read symlink");
        out->entries.push_back({path, *stat, *target});
        break;
      }
      case FileType::kOther:
        spdlog::warn("skipping {}: not a regular file, directory or symlink", path);
        out->skipped.push_back(path);
        break;
    }
  }
  return OkStatus();
}

}  // namespace

Status CheckWorkspaceDirectory(FileSystem* fs, const std::string& root) {
  auto stat = fs->Lstat(root);
  if (!stat) return stat.error().WithContext("workspace");
  if (stat->type != FileType::kDirectory) {
    return InvalidArgumentError("workspace " + root + " is not a directory");
  }
  return OkStatus();
}

Result<ScanResult> ScanWorkspace(FileSystem* fs, const std::string& root,
                                 const std::vector<std::string>& exclude) {
  RETURN_IF_ERROR(CheckWorkspaceDirectory(fs, root));
  ScanResult result;
  RETURN_IF_ERROR(Walk(fs, root, "", exclude, &result));
  std::sort(result.entries.begin(), result.entries.end(),
            [](const ScannedEntry& a, const ScannedEntry& b) { return a.path < b.path; });
  return result;
}

}  // namespace standby
