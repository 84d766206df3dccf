#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>

#include "env/file_system.h"

namespace standby {

// Forwards every call to `base` (not owned, must outlive this). Subclass and override one
// method to inject a fault.
class FileSystemWrapper : public FileSystem {
 public:
  explicit FileSystemWrapper(FileSystem* base) : base_(base) {}

  Result<FileStat> Lstat(const std::string& path) override { return base_->Lstat(path); }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return base_->ListDir(path);
  }
  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& path) override {
    return base_->OpenRead(path);
  }
  Result<std::unique_ptr<WritableFile>> OpenWrite(const std::string& path, uint32_t mode) override {
    return base_->OpenWrite(path, mode);
  }
  Result<std::unique_ptr<WritableFile>> OpenForUpdate(const std::string& path) override {
    return base_->OpenForUpdate(path);
  }
  Result<std::string> ReadLink(const std::string& path) override { return base_->ReadLink(path); }
  Status Symlink(const std::string& target, const std::string& path) override {
    return base_->Symlink(target, path);
  }
  Status MakeDir(const std::string& path, uint32_t mode) override {
    return base_->MakeDir(path, mode);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_->Rename(from, to);
  }
  Status RemoveFile(const std::string& path) override { return base_->RemoveFile(path); }
  Status RemoveDir(const std::string& path) override { return base_->RemoveDir(path); }
  Status Chmod(const std::string& path, uint32_t mode) override { return base_->Chmod(path, mode); }
  Status SetMtime(const std::string& path, int64_t mtime_ns) override {
    return base_->SetMtime(path, mtime_ns);
  }
  Status SyncDir(const std::string& path) override { return base_->SyncDir(path); }
  Result<uint64_t> FreeBytes(const std::string& path) override { return base_->FreeBytes(path); }

 protected:
  FileSystem* base_;
};

// Test double over a real file system that can:
//  - refuse to open files whose path contains a substring (like EACCES),
//  - report ENOSPC once more than a byte budget has been written in total,
//  - run a callback at the first read of every opened file whose path matches (to change
//    the file while it is being read).
// Thread-safe.
class FaultInjectingFileSystem : public FileSystemWrapper {
 public:
  explicit FaultInjectingFileSystem(FileSystem* base) : FileSystemWrapper(base) {}

  void FailOpenRead(std::string path_substring, int err);
  void SetWriteBudget(uint64_t bytes);
  void OnRead(std::string path_substring, std::function<void()> callback);

  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> OpenWrite(const std::string& path, uint32_t mode) override;
  Result<std::unique_ptr<WritableFile>> OpenForUpdate(const std::string& path) override;

  // Charges `bytes` against the write budget; false once it is exhausted.
  bool ChargeWrite(uint64_t bytes);

 private:
  std::mutex mu_;
  std::string fail_open_substring_;
  int fail_open_errno_ = 0;
  std::string on_read_substring_;
  std::function<void()> on_read_;
  std::atomic<int64_t> write_budget_{-1};
};

}  // namespace standby
