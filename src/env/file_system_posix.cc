#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>

#include "env/file_system.h"

namespace standby {
namespace {

FileStat ToFileStat(const struct stat& st) {
  FileStat out;
  if (S_ISREG(st.st_mode)) {
    out.type = FileType::kRegular;
  } else if (S_ISDIR(st.st_mode)) {
    out.type = FileType::kDirectory;
  } else if (S_ISLNK(st.st_mode)) {
    out.type = FileType::kSymlink;
  } else {
    out.type = FileType::kOther;
  }
  out.mode = st.st_mode & 07777;
  out.size = static_cast<uint64_t>(st.st_size);
  out.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  out.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
  out.inode = st.st_ino;
  out.dev = st.st_dev;
  return out;
}

class PosixReadableFile : public ReadableFile {
 public:
  PosixReadableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixReadableFile() override { ::close(fd_); }

  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    while (true) {
      ssize_t got = ::pread(fd_, buf, n, static_cast<off_t>(offset));
      if (got >= 0) return static_cast<size_t>(got);
      if (errno != EINTR) return ErrnoError(errno, "read " + path_);
    }
  }

  Result<FileStat> Stat() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoError(errno, "stat " + path_);
    return ToFileStat(st);
  }

 private:
  int fd_;
  std::string path_;
};

class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status WriteAt(uint64_t offset, std::string_view data) override {
    while (!data.empty()) {
      ssize_t wrote = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
      if (wrote < 0) {
        if (errno == EINTR) continue;
        return ErrnoError(errno, "write " + path_);
      }
      data.remove_prefix(static_cast<size_t>(wrote));
      offset += static_cast<uint64_t>(wrote);
    }
    return OkStatus();
  }

  Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return ErrnoError(errno, "truncate " + path_);
    }
    return OkStatus();
  }

  Status Sync() override {
    if (::fdatasync(fd_) != 0) return ErrnoError(errno, "fsync " + path_);
    return OkStatus();
  }

  Status Close() override {
    int fd = fd_;
    fd_ = -1;
    if (fd >= 0 && ::close(fd) != 0) return ErrnoError(errno, "close " + path_);
    return OkStatus();
  }

 private:
  int fd_;
  std::string path_;
};

class PosixFileSystem : public FileSystem {
 public:
  Result<FileStat> Lstat(const std::string& path) override {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return ErrnoError(errno, path);
    return ToFileStat(st);
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return ErrnoError(errno, "list " + path);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* entry = ::readdir(dir)) {
      std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    int err = errno;
    ::closedir(dir);
    if (err != 0) return ErrnoError(err, "list " + path);
    return names;
  }

  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return ErrnoError(errno, "open " + path);
    return std::unique_ptr<ReadableFile>(new PosixReadableFile(fd, path));
  }

  Result<std::unique_ptr<WritableFile>> OpenWrite(const std::string& path, uint32_t mode) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) return ErrnoError(errno, "create " + path);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(fd, path));
  }

  Result<std::unique_ptr<WritableFile>> OpenForUpdate(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return ErrnoError(errno, "open " + path);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(fd, path));
  }

  Result<std::string> ReadLink(const std::string& path) override {
    std::string buf(256, '\0');
    while (true) {
      ssize_t got = ::readlink(path.c_str(), buf.data(), buf.size());
      if (got < 0) return ErrnoError(errno, "readlink " + path);
      if (static_cast<size_t>(got) < buf.size()) {
        buf.resize(static_cast<size_t>(got));
        return buf;
      }
      buf.resize(buf.size() * 2);
    }
  }

  Status Symlink(const std::string& target, const std::string& path) override {
    if (::symlink(target.c_str(), path.c_str()) != 0) return ErrnoError(errno, "symlink " + path);
    return OkStatus();
  }

  Status MakeDir(const std::string& path, uint32_t mode) override {
    if (::mkdir(path.c_str(), mode) != 0) return ErrnoError(errno, "mkdir " + path);
    return OkStatus();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoError(errno, "rename to " + to);
    return OkStatus();
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoError(errno, "remove " + path);
    return OkStatus();
  }

  Status RemoveDir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return ErrnoError(errno, "remove directory " + path);
    return OkStatus();
  }

  // Never follows a symlink: a link planted where a file or directory was expected keeps its
  // target's mode.
  Status Chmod(const std::string& path, uint32_t mode) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      int rc = ::fchmod(fd, mode);
      int saved = errno;
      ::close(fd);
      if (rc != 0) return ErrnoError(saved, "chmod " + path);
      return OkStatus();
    }
    if (errno == ELOOP) return ErrnoError(ELOOP, "chmod " + path + ": it is a symlink");
    // Unreadable to us (mode 0 and not root): no descriptor, so check the type first.
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return ErrnoError(errno, "chmod " + path);
    if (S_ISLNK(st.st_mode)) return ErrnoError(ELOOP, "chmod " + path + ": it is a symlink");
    if (::fchmodat(AT_FDCWD, path.c_str(), mode, 0) != 0) {
      return ErrnoError(errno, "chmod " + path);
    }
    return OkStatus();
  }

  Status SetMtime(const std::string& path, int64_t mtime_ns) override {
    struct timespec times[2];
    times[0].tv_sec = mtime_ns / 1'000'000'000;
    times[0].tv_nsec = mtime_ns % 1'000'000'000;
    if (times[0].tv_nsec < 0) {
      times[0].tv_nsec += 1'000'000'000;
      times[0].tv_sec -= 1;
    }
    times[1] = times[0];
    if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoError(errno, "set mtime of " + path);
    }
    return OkStatus();
  }

  Status SyncDir(const std::string& path) override {
    int fd = ::open(path.empty() ? "." : path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoError(errno, "open directory " + path);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoError(err, "fsync directory " + path);
    return OkStatus();
  }

  Result<uint64_t> FreeBytes(const std::string& path) override {
    struct statvfs st;
    if (::statvfs(path.c_str(), &st) != 0) return ErrnoError(errno, "statvfs " + path);
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  }
};

}  // namespace

FileSystem* FileSystem::Real() {
  static PosixFileSystem fs;
  return &fs;
}

}  // namespace standby
