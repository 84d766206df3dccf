#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace standby {

enum class FileType { kRegular, kDirectory, kSymlink, kOther };

struct FileStat {
  FileType type = FileType::kOther;
  uint32_t mode = 0;  // permission bits only (07777)
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  uint64_t dev = 0;
};

// A file opened for reading. Not thread-safe; ReadAt may be called from one thread at a time.
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Reads up to n bytes at offset; returns the count read (0 at end of file).
  virtual Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) = 0;
  // fstat of the open file.
  virtual Result<FileStat> Stat() = 0;
};

// A file opened for writing. WriteAt writes all of `data` or fails (ENOSPC → kResourceExhausted).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status WriteAt(uint64_t offset, std::string_view data) = 0;
  virtual Status Truncate(uint64_t size) = 0;
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
};

// The file-system seam. Every path is absolute or relative to the process's working
// directory; no method follows a symlink in the last component. Implementations are
// thread-safe. Errors carry the path and the system's reason.
class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual Result<FileStat> Lstat(const std::string& path) = 0;
  // Names in `path` (without "." and ".."), in no particular order.
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;
  virtual Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& path) = 0;
  // Creates or truncates `path` with permission bits `mode`. Refuses to open through a symlink.
  virtual Result<std::unique_ptr<WritableFile>> OpenWrite(const std::string& path,
                                                          uint32_t mode) = 0;
  // Opens an existing regular file for writing without truncating it.
  virtual Result<std::unique_ptr<WritableFile>> OpenForUpdate(const std::string& path) = 0;
  virtual Result<std::string> ReadLink(const std::string& path) = 0;
  virtual Status Symlink(const std::string& target, const std::string& path) = 0;
  // kConflict when `path` already exists.
  virtual Status MakeDir(const std::string& path, uint32_t mode) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual Status RemoveDir(const std::string& path) = 0;
  virtual Status Chmod(const std::string& path, uint32_t mode) = 0;
  // Sets atime and mtime of `path` itself (a symlink is not followed).
  virtual Status SetMtime(const std::string& path, int64_t mtime_ns) = 0;
  virtual Status SyncDir(const std::string& path) = 0;
  // Bytes available to an unprivileged writer on the file system holding `path`.
  virtual Result<uint64_t> FreeBytes(const std::string& path) = 0;

  // The real POSIX file system. Never null; not owned by the caller.
  static FileSystem* Real();
};

std::string JoinPath(std::string_view dir, std::string_view name);
// "a/b/c" → "a/b"; "c" → ""
std::string_view ParentPath(std::string_view path);

Result<std::string> ReadFileToString(FileSystem* fs, const std::string& path);
// Names of the temporary files WriteFileAtomically leaves only if the process dies mid-write.
inline constexpr std::string_view kAtomicWriteTempPrefix = ".standby-tmp-";

// Writes to a hidden temporary name (kAtomicWriteTempPrefix) beside `path`, fsyncs, renames
// over `path`, fsyncs the directory. A failure leaves `path` as it was.
Status WriteFileAtomically(FileSystem* fs, const std::string& path, std::string_view data,
                           uint32_t mode = 0644);
// Creates `path` and its missing parents.
Status MakeDirs(FileSystem* fs, const std::string& path, uint32_t mode = 0755);
// Creates `path` (mode 0700) if missing, then checks, as OpenSSH's StrictModes does, that it
// belongs to us and that neither group nor others can write it: the controller's keys, pins
// and database live there. kPermissionDenied saying how to fix it otherwise.
Status EnsurePrivateDirectory(const std::string& path);
// The check itself, on a stat of `path`: ours, and not writable by group or others.
Status CheckOwnedAndPrivate(const std::string& path, uid_t owner, uint32_t mode);
// Removes `path` whatever it is; a missing path is not an error.
Status RemoveAll(FileSystem* fs, const std::string& path);

}  // namespace standby
