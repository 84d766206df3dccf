#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "env/clock.h"
#include "remote/agent_channel.h"
#include "remote/host_keys.h"

struct ssh_session_struct;

namespace standby {

struct SshTarget {
  std::string user;
  std::string host;
  uint16_t port = 22;
  std::string Describe() const;  // "user@host:port"
};

// "USER@HOST:PORT", "USER@HOST" (port 22), "USER@[v6]:PORT".
Result<SshTarget> ParseSshTarget(const std::string& text);

struct SshOptions {
  SshTarget target;
  std::string private_key_path;
  // TOFU pinning: `pins` may be null only in code that pins by other means.
  HostKeyPins* pins = nullptr;
  std::string pin_name;                              // default: target's "host:port"
  std::chrono::milliseconds connect_timeout{10000};  // TCP connect and SSH handshake each
  // An idle connection sends an SSH_MSG_IGNORE this often; the kernel drops a connection
  // whose data stays unacknowledged for `dead_after` (TCP_USER_TIMEOUT), so a host that
  // vanished is noticed within about interval + dead_after.
  std::chrono::milliseconds keepalive_interval{5000};
  std::chrono::milliseconds dead_after{20000};
  Clock* clock = nullptr;  // required: hello deadline, keepalive timing
};

// One authenticated SSH connection (libssh). Not thread-safe: one job at a time.
class SshSession {
 public:
  // Connects, checks the host key against the pins, authenticates with the key.
  // kUnavailable: refused/unreachable; kDeadlineExceeded: timed out; kPermissionDenied:
  // authentication failed or the host key changed.
  static Result<std::unique_ptr<SshSession>> Connect(const SshOptions& options);
  ~SshSession();
  SshSession(const SshSession&) = delete;
  SshSession& operator=(const SshSession&) = delete;

  // Starts `command` with the login shell; its stdio is the returned channel.
  Result<std::unique_ptr<AgentChannel>> Exec(const std::string& command);

  // Writes `content` to `path` (relative to the login directory) over SFTP: parents made,
  // written under a temporary name, fsynced, chmod `mode`, renamed into place. A file already
  // at `path` is left as it is (names are content hashes).
  Status UploadFile(std::string_view content, const std::string& path, uint32_t mode);

  const SshOptions& options() const { return options_; }
  bool Connected() const;

 private:
  SshSession(ssh_session_struct* session, SshOptions options);
  ssh_session_struct* session_;
  SshOptions options_;
};

}  // namespace standby
