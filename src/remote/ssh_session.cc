#include "remote/ssh_session.h"

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "base/strings.h"

namespace standby {
namespace {

std::string LibsshError(ssh_session session) { return ssh_get_error(session); }

Error ConnectError(const SshTarget& target, const std::string& detail) {
  std::string what = "ssh " + target.Describe() + ": ";
  if (detail.find("imeout") != std::string::npos || detail.find("timed out") != std::string::npos) {
    return DeadlineExceededError(what + "timed out connecting (" + detail + ")");
  }
  return UnavailableError(what + "cannot connect (" + detail + ")");
}

Result<HostKey> ServerHostKey(ssh_session session) {
  ssh_key key = nullptr;
  if (ssh_get_server_publickey(session, &key) != SSH_OK) {
    return UnavailableError("the server sent no host key");
  }
  HostKey out;
  out.type = ssh_key_type_to_char(ssh_key_type(key));
  char* base64 = nullptr;
  unsigned char* hash = nullptr;
  size_t hash_len = 0;
  bool ok = ssh_pki_export_pubkey_base64(key, &base64) == SSH_OK &&
            ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hash_len) == SSH_OK;
  if (ok) {
    out.base64 = base64;
    char* fingerprint = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hash_len);
    out.fingerprint = fingerprint ? fingerprint : "";
    ssh_string_free_char(fingerprint);
  }
  ssh_string_free_char(base64);
  ssh_clean_pubkey_hash(&hash);
  ssh_key_free(key);
  if (!ok) return InternalError("cannot encode the server's host key");
  return out;
}

// A remote command's stdio over one SSH channel.
class SshChannel : public AgentChannel {
 public:
  SshChannel(ssh_session session, ssh_channel channel, const SshOptions& options)
      : session_(session), channel_(channel), options_(options) {
    ssh_callbacks_init(&callbacks_);
    callbacks_.userdata = this;
    callbacks_.channel_exit_signal_function = [](ssh_session, ssh_channel, const char* signal, int,
                                                 const char*, const char*, void* self) {
      static_cast<SshChannel*>(self)->exit_signal_ = signal ? signal : "?";
    };
    ssh_set_channel_callbacks(channel_, &callbacks_);
  }
  ~SshChannel() override {
    // libssh keeps a channel the server has not closed yet and may still deliver its
    // messages later: it must not call back into this object once it is gone.
    ssh_remove_channel_callbacks(channel_, &callbacks_);
    ssh_channel_close(channel_);
    ssh_channel_free(channel_);
  }

  // Writes only what the remote window takes, so a host that stops reading its input
  // cannot block the controller: past kAgentWriteTimeout the write fails.
  Status Write(std::string_view data) override {
    const int64_t deadline =
        options_.clock->MonotonicNanos() +
        std::chrono::duration_cast<std::chrono::nanoseconds>(kAgentWriteTimeout).count();
    while (!data.empty()) {
      const uint32_t window = ssh_channel_window_size(channel_);
      if (window == 0) {
        if (options_.clock->MonotonicNanos() > deadline) {
          return UnavailableError("the agent on " + options_.target.Describe() +
                                  " stopped reading its input");
        }
        // Lets libssh take in the peer's window adjustments.
        if (ssh_channel_poll_timeout(channel_, 50, 0) == SSH_ERROR) return Lost();
        options_.clock->SleepFor(std::chrono::milliseconds(10));
        continue;
      }
      const uint32_t chunk = static_cast<uint32_t>(std::min<size_t>(data.size(), window));
      int n = ssh_channel_write(channel_, data.data(), chunk);
      if (n == SSH_ERROR) return Lost();
      data.remove_prefix(static_cast<size_t>(n));
    }
    last_sent_ns_ = options_.clock->MonotonicNanos();
    return OkStatus();
  }

  Status CloseStdin() override {
    if (ssh_channel_send_eof(channel_) == SSH_ERROR) return Lost();
    return OkStatus();
  }

  Result<ChannelOutput> Read(std::chrono::milliseconds timeout) override {
    const int64_t now = options_.clock->MonotonicNanos();
    if (now - last_sent_ns_ >
        std::chrono::duration_cast<std::chrono::nanoseconds>(options_.keepalive_interval).count()) {
      if (ssh_send_ignore(session_, "") == SSH_ERROR) return Lost();
      last_sent_ns_ = now;
    }
    ChannelOutput output;
    char buf[65536];
    int n =
        ssh_channel_read_timeout(channel_, buf, sizeof(buf), 0, static_cast<int>(timeout.count()));
    if (n == SSH_ERROR) return Lost();
    if (n > 0) output.out.assign(buf, static_cast<size_t>(n));
    // All the stderr that has arrived is taken (libssh would otherwise keep buffering it for
    // as long as the job runs), the latest kMaxStderrPerRead of it kept, in up to 64 reads.
    for (int reads = 0;
         reads < 64 && (n = ssh_channel_read_nonblocking(channel_, buf, sizeof(buf), 1)) > 0;
         ++reads) {
      output.err.append(buf, static_cast<size_t>(n));
      if (output.err.size() > kMaxStderrPerRead) {
        const size_t excess = output.err.size() - kMaxStderrPerRead;
        output.err.erase(0, excess);
        output.err_dropped += excess;
      }
    }
    if (n == SSH_ERROR) return Lost();
    if (output.out.empty() && ssh_channel_is_eof(channel_)) output.eof = true;
    if (!ssh_is_connected(session_) && output.out.empty() && !output.eof) return Lost();
    return output;
  }

  std::string Ending() override {
    int status = ssh_channel_get_exit_status(channel_);
    if (!exit_signal_.empty()) return "was killed by signal " + exit_signal_;
    if (status >= 0) return "exited with status " + std::to_string(status);
    if (!ssh_is_connected(session_)) return "lost its connection";
    return "ended without an exit status (killed by a signal?)";
  }

  void Terminate() override {
    if (ssh_is_connected(session_)) ssh_channel_request_send_signal(channel_, "TERM");
    ssh_channel_close(channel_);
  }

 private:
  Error Lost() {
    return UnavailableError("SSH connection to " + options_.target.Describe() +
                            " lost: " + LibsshError(session_));
  }

  ssh_session session_;
  ssh_channel channel_;
  const SshOptions& options_;
  ssh_channel_callbacks_struct callbacks_{};
  std::string exit_signal_;
  int64_t last_sent_ns_ = options_.clock->MonotonicNanos();
};

}  // namespace

std::string SshTarget::Describe() const {
  bool v6 = host.find(':') != std::string::npos;
  return user + "@" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<SshTarget> ParseSshTarget(const std::string& text) {
  SshTarget target;
  size_t at = text.find('@');
  if (at == std::string::npos || at == 0) {
    return InvalidArgumentError("--ssh wants USER@HOST[:PORT], got '" + text + "'");
  }
  target.user = text.substr(0, at);
  std::string rest = text.substr(at + 1);
  std::string port_text;
  if (rest.starts_with("[")) {
    size_t close = rest.find(']');
    if (close == std::string::npos) return InvalidArgumentError("unclosed [ in --ssh " + text);
    target.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return InvalidArgumentError("bad --ssh " + text);
      port_text = rest.substr(close + 2);
    }
  } else {
    size_t colon = rest.rfind(':');
    target.host = rest.substr(0, colon);
    if (colon != std::string::npos) port_text = rest.substr(colon + 1);
  }
  if (target.host.empty()) return InvalidArgumentError("no host in --ssh " + text);
  if (!port_text.empty()) {
    auto port = ParseUint(port_text);
    if (!port || *port == 0 || *port > 65535) {
      return InvalidArgumentError("bad port '" + port_text + "' in --ssh " + text);
    }
    target.port = static_cast<uint16_t>(*port);
  }
  return target;
}

SshSession::SshSession(ssh_session session, SshOptions options)
    : session_(session), options_(std::move(options)) {}

SshSession::~SshSession() {
  ssh_disconnect(session_);
  ssh_free(session_);
}

Result<std::unique_ptr<SshSession>> SshSession::Connect(const SshOptions& options) {
  const SshTarget& target = options.target;
  ssh_session raw = ssh_new();
  if (raw == nullptr) return InternalError("libssh: cannot allocate a session");
  std::unique_ptr<SshSession> session(new SshSession(raw, options));
  long timeout_s = std::max<long>(1, options.connect_timeout.count() / 1000);
  int port = target.port;
  int no = 0;
  ssh_options_set(raw, SSH_OPTIONS_PROCESS_CONFIG, &no);  // ~/.ssh/config must not apply
  ssh_options_set(raw, SSH_OPTIONS_HOST, target.host.c_str());
  ssh_options_set(raw, SSH_OPTIONS_PORT, &port);
  ssh_options_set(raw, SSH_OPTIONS_USER, target.user.c_str());
  ssh_options_set(raw, SSH_OPTIONS_TIMEOUT, &timeout_s);
  int yes = 1;  // small protocol messages must not wait for delayed ACKs (Nagle)
  ssh_options_set(raw, SSH_OPTIONS_NODELAY, &yes);
  ssh_options_set(raw, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");  // we pin keys ourselves
  ssh_options_set(raw, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
  if (ssh_connect(raw) != SSH_OK) return ConnectError(target, LibsshError(raw));

  ASSIGN_OR_RETURN(HostKey key, ServerHostKey(raw));
  std::string pin =
      options.pin_name.empty() ? target.host + ":" + std::to_string(target.port) : options.pin_name;
  if (options.pins != nullptr) RETURN_IF_ERROR(options.pins->Check(pin, key));

  ssh_key identity = nullptr;
  if (ssh_pki_import_privkey_file(options.private_key_path.c_str(), nullptr, nullptr, nullptr,
                                  &identity) != SSH_OK) {
    return PermissionDeniedError("cannot read SSH private key " + options.private_key_path +
                                 " (missing, unreadable, or passphrase-protected)");
  }
  int auth = ssh_userauth_publickey(raw, nullptr, identity);
  ssh_key_free(identity);
  if (auth != SSH_AUTH_SUCCESS) {
    return PermissionDeniedError("ssh " + target.Describe() + ": authentication with key " +
                                 options.private_key_path +
                                 " was refused; add its public half to the host's "
                                 "authorized_keys (standby ssh-key prints it)");
  }
  socket_t fd = ssh_get_fd(raw);
  int on = 1;
  unsigned int user_timeout = static_cast<unsigned int>(options.dead_after.count());
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
  ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
  return session;
}

bool SshSession::Connected() const { return ssh_is_connected(session_) != 0; }

Result<std::unique_ptr<AgentChannel>> SshSession::Exec(const std::string& command) {
  ssh_channel channel = ssh_channel_new(session_);
  if (channel == nullptr) {
    return UnavailableError("ssh " + options_.target.Describe() + ": " + LibsshError(session_));
  }
  if (ssh_channel_open_session(channel) != SSH_OK ||
      ssh_channel_request_exec(channel, command.c_str()) != SSH_OK) {
    std::string detail = LibsshError(session_);
    ssh_channel_free(channel);
    return UnavailableError("ssh " + options_.target.Describe() + ": cannot start a command (" +
                            detail + ")");
  }
  return std::unique_ptr<AgentChannel>(new SshChannel(session_, channel, options_));
}

}  // namespace standby
