#include "testing/memory_probe.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace standby {
namespace {

// A "VmRSS:   1234 kB" field of /proc/self/status, in bytes; 0 when absent.
uint64_t StatusBytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::strtoull(line.c_str() + field.size() + 1, nullptr, 10) * 1024;
    }
  }
  return 0;
}

}  // namespace

Result<uint64_t> PeakMemoryGrowthInChild(const std::function<void()>& fn) {
  int fds[2];
  if (::pipe(fds) != 0) return ErrnoError(errno, "pipe");
  pid_t child = ::fork();
  if (child < 0) return ErrnoError(errno, "fork");
  if (child == 0) {
    ::close(fds[0]);
    // Start from the resident set of now: the peak so far is the parent's, not fn's.
    std::FILE* reset = std::fopen("/proc/self/clear_refs", "w");
    if (reset != nullptr) {
      std::fputs("5", reset);  // resets VmHWM to VmRSS
      std::fclose(reset);
    }
    const uint64_t before = StatusBytes("VmRSS");
    fn();
    const uint64_t peak = StatusBytes("VmHWM");
    const uint64_t growth = peak > before ? peak - before : 0;
    ssize_t written = ::write(fds[1], &growth, sizeof(growth));
    ::_exit(written == sizeof(growth) ? 0 : 1);
  }
  ::close(fds[1]);
  uint64_t growth = 0;
  ssize_t got = ::read(fds[0], &growth, sizeof(growth));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (got != sizeof(growth) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return InternalError("the measuring child did not report (it crashed or was killed)");
  }
  return growth;
}

}  // namespace standby
