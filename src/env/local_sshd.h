#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.h"

namespace standby {

// An OpenSSH sshd serving one directory as a host: its own host key, config and
// authorized_keys under `dir`, HOME (for commands) and the SFTP start directory at `home`,
// listening on 127.0.0.1:`port`, for the current user. Used by the local simulated market's
// hosts and by the SSH_ test fixture.
struct LocalSshdConfig {
  std::string dir;
  std::string home;
  int port = 0;
  std::string authorized_key;  // an authorized_keys line
};

// Writes host_key (once), authorized_keys and sshd_config into `dir`.
Status PrepareLocalSshd(const LocalSshdConfig& config);
// sshd's command line for `dir` (foreground, logging to stderr).
std::vector<std::string> LocalSshdCommand(const std::string& dir);

// Every live process descended from `root` (found through /proc), deepest last.
std::vector<pid_t> DescendantsOf(pid_t root);
// SIGKILLs `root` and its descendants.
void KillProcessTree(pid_t root);

}  // namespace standby
