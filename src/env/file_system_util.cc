#include <sys/stat.h>
#include <unistd.h>

#include "base/strings.h"
#include "env/file_system.h"

namespace standby {

std::string JoinPath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (name.empty()) return std::string(dir);
  std::string out(dir);
  if (out.back() != '/') out.push_back('/');
  out.append(name);
  return out;
}

std::string_view ParentPath(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {};
  if (slash == 0) return path.substr(0, 1);
  return path.substr(0, slash);
}

Result<std::string> ReadFileToString(FileSystem* fs, const std::string& path) {
  ASSIGN_OR_RETURN(auto file, fs->OpenRead(path));
  ASSIGN_OR_RETURN(FileStat stat, file->Stat());
  // Read straight into the string, sized from fstat; a file that grows meanwhile is read on.
  std::string out(stat.size + 1, '\0');
  uint64_t offset = 0;
  while (true) {
    if (offset == out.size()) out.resize(out.size() * 2);
    ASSIGN_OR_RETURN(size_t got, file->ReadAt(offset, out.data() + offset, out.size() - offset));
    if (got == 0) break;
    offset += got;
  }
  out.resize(offset);
  return out;
}

Status WriteFileAtomically(FileSystem* fs, const std::string& path, std::string_view data,
                           uint32_t mode) {
  std::string dir(ParentPath(path));
  std::string tmp = JoinPath(dir, std::string(kAtomicWriteTempPrefix) + RandomHex(8));
  ASSIGN_OR_RETURN(auto file, fs->OpenWrite(tmp, mode));
  Status status = file->WriteAt(0, data);
  if (status) status = file->Sync();
  Status closed = file->Close();
  if (status && !closed) status = closed;
  if (status) status = fs->Rename(tmp, path);
  if (!status) {
    fs->RemoveFile(tmp).IgnoreError();  // best effort; the temp name is never read
    return status;
  }
  return fs->SyncDir(dir);
}

Status EnsurePrivateDirectory(const std::string& path) {
  RETURN_IF_ERROR(MakeDirs(FileSystem::Real(), path, 0700));
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError(errno, "stat " + path);
  return CheckOwnedAndPrivate(path, st.st_uid, st.st_mode);
}

Status CheckOwnedAndPrivate(const std::string& path, uid_t owner, uint32_t mode) {
  if (owner != ::geteuid()) {
    return PermissionDeniedError("refusing " + path + ": it belongs to uid " +
                                 std::to_string(owner) + ", not to us");
  }
  if (mode & (S_IWGRP | S_IWOTH)) {
    return PermissionDeniedError("refusing " + path + ": writable by group or others (chmod go-w " +
                                 path + ")");
  }
  return OkStatus();
}

Status MakeDirs(FileSystem* fs, const std::string& path, uint32_t mode) {
  if (path.empty() || path == "/") return OkStatus();
  auto stat = fs->Lstat(path);
  if (stat) {
    if (stat->type == FileType::kDirectory) return OkStatus();
    return ConflictError(path + " exists and is not a directory");
  }
  if (stat.error().code != ErrorCode::kNotFound) return stat.error();
  RETURN_IF_ERROR(MakeDirs(fs, std::string(ParentPath(path)), mode));
  Status made = fs->MakeDir(path, mode);
  if (!made && made.error().code == ErrorCode::kConflict) return OkStatus();  // lost a race
  return made;
}

Status RemoveAll(FileSystem* fs, const std::string& path) {
  auto stat = fs->Lstat(path);
  if (!stat) {
    if (stat.error().code == ErrorCode::kNotFound) return OkStatus();
    return stat.error();
  }
  if (stat->type != FileType::kDirectory) return fs->RemoveFile(path);
  ASSIGN_OR_RETURN(auto names, fs->ListDir(path));
  for (const std::string& name : names) RETURN_IF_ERROR(RemoveAll(fs, JoinPath(path, name)));
  return fs->RemoveDir(path);
}

}  // namespace standby
