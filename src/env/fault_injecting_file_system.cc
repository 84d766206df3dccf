#include "env/fault_injecting_file_system.h"

#include <cerrno>

namespace standby {
namespace {

class CallbackReadableFile : public ReadableFile {
 public:
  CallbackReadableFile(std::unique_ptr<ReadableFile> base, std::function<void()> on_read)
      : base_(std::move(base)), on_read_(std::move(on_read)) {}

  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    if (on_read_) {
      auto callback = std::move(on_read_);
      on_read_ = nullptr;
      auto got = base_->ReadAt(offset, buf, n);
      callback();
      return got;
    }
    return base_->ReadAt(offset, buf, n);
  }
  Result<FileStat> Stat() override { return base_->Stat(); }

 private:
  std::unique_ptr<ReadableFile> base_;
  std::function<void()> on_read_;
};

class BudgetedWritableFile : public WritableFile {
 public:
  BudgetedWritableFile(std::unique_ptr<WritableFile> base, FaultInjectingFileSystem* fs,
                       std::string path)
      : base_(std::move(base)), fs_(fs), path_(std::move(path)) {}

  Status WriteAt(uint64_t offset, std::string_view data) override {
    if (!fs_->ChargeWrite(data.size())) return ErrnoError(ENOSPC, "write " + path_);
    return base_->WriteAt(offset, data);
  }
  Status Truncate(uint64_t size) override { return base_->Truncate(size); }
  Status Sync() override { return base_->Sync(); }
  Status Close() override { return base_->Close(); }

 private:
  std::unique_ptr<WritableFile> base_;
  FaultInjectingFileSystem* fs_;
  std::string path_;
};

}  // namespace

void FaultInjectingFileSystem::FailOpenRead(std::string path_substring, int err) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_open_substring_ = std::move(path_substring);
  fail_open_errno_ = err;
}

void FaultInjectingFileSystem::SetWriteBudget(uint64_t bytes) {
  write_budget_ = static_cast<int64_t>(bytes);
}

void FaultInjectingFileSystem::OnRead(std::string path_substring, std::function<void()> callback) {
  std::lock_guard<std::mutex> lock(mu_);
  on_read_substring_ = std::move(path_substring);
  on_read_ = std::move(callback);
}

bool FaultInjectingFileSystem::ChargeWrite(uint64_t bytes) {
  if (write_budget_.load() < 0) return true;
  int64_t left = write_budget_.fetch_sub(static_cast<int64_t>(bytes));
  if (left < static_cast<int64_t>(bytes)) {
    write_budget_ = 0;
    return false;
  }
  return true;
}

Result<std::unique_ptr<ReadableFile>> FaultInjectingFileSystem::OpenRead(const std::string& path) {
  std::function<void()> callback;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fail_open_substring_.empty() && path.find(fail_open_substring_) != std::string::npos) {
      return ErrnoError(fail_open_errno_, "open " + path);
    }
    if (on_read_ && path.find(on_read_substring_) != std::string::npos) {
      callback = on_read_;
    }
  }
  ASSIGN_OR_RETURN(auto file, base_->OpenRead(path));
  if (!callback) return file;
  return std::unique_ptr<ReadableFile>(new CallbackReadableFile(std::move(file), callback));
}

Result<std::unique_ptr<WritableFile>> FaultInjectingFileSystem::OpenWrite(const std::string& path,
                                                                          uint32_t mode) {
  ASSIGN_OR_RETURN(auto file, base_->OpenWrite(path, mode));
  return std::unique_ptr<WritableFile>(new BudgetedWritableFile(std::move(file), this, path));
}

}  // namespace standby

namespace standby {

Result<std::unique_ptr<WritableFile>> FaultInjectingFileSystem::OpenForUpdate(
    const std::string& path) {
  ASSIGN_OR_RETURN(auto file, base_->OpenForUpdate(path));
  return std::unique_ptr<WritableFile>(new BudgetedWritableFile(std::move(file), this, path));
}

}  // namespace standby
