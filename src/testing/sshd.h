#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

namespace standby {

// A real OpenSSH sshd for SSH_ tests, standing in for one rented host: its own temporary
// directory with a host key, config, authorized_keys and a home directory (HOME for
// commands, the starting directory for SFTP), listening on a free loopback port. The login
// user is the one running the test. Stopped and removed on destruction.
class SshdHost {
 public:
  // `authorized_key`: an authorized_keys line (the controller's public key).
  static Result<std::unique_ptr<SshdHost>> Start(const std::string& authorized_key);
  ~SshdHost();

  int port() const { return port_; }
  const std::string& root() const { return root_; }  // everything of this host is below
  const std::string& home() const { return home_; }
  std::string target() const;  // "user@127.0.0.1:PORT"
  pid_t pid() const { return pid_; }

  // Kills the listener (connections in progress die with their session processes).
  void Stop();
  // Starts the listener again on the same port with the same host key.
  Status Restart();
  // A new host key (as if the machine behind the address changed); takes effect on Restart.
  Status ReplaceHostKey();
  // Processes serving connections (sshd session processes and everything they started).
  std::vector<pid_t> SessionProcesses() const;

 private:
  SshdHost() = default;
  Status Launch();
  pid_t pid_ = -1;
  int port_ = 0;
  std::string root_, home_, user_;
};

// argv and environment of a live process, NUL-separated fields joined by spaces; empty when
// it has gone.
std::string ProcessArgsAndEnvironment(pid_t pid);

}  // namespace standby
