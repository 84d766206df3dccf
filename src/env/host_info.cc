#include "env/host_info.h"

#include <unistd.h>

#include <cerrno>
#include <climits>

namespace standby {

std::string LocalHostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "unknown-host";
  return buf;
}

}  // namespace standby

namespace standby {

Result<std::string> SelfPath() {
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return ErrnoError(errno, "readlink /proc/self/exe");
  return std::string(self, static_cast<size_t>(n));
}

}  // namespace standby
