#include "env/host_info.h"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <fstream>

namespace standby {

std::string LocalHostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "unknown-host";
  return buf;
}

std::string ProcessSpaceId() {
  // Fixed for the process's life: read once.
  static const std::string id = [] {
    std::string boot;
    std::ifstream("/proc/sys/kernel/random/boot_id") >> boot;
    char ns[128];
    ssize_t n = ::readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
    if (boot.empty() || n <= 0) return std::string();
    return boot + "/" + std::string(ns, static_cast<size_t>(n));
  }();
  return id;
}

Result<std::string> SelfPath() {
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return ErrnoError(errno, "readlink /proc/self/exe");
  return std::string(self, static_cast<size_t>(n));
}

}  // namespace standby
