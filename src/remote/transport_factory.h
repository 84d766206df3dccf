#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "env/clock.h"
#include "remote/host_keys.h"
#include "remote/local_transport.h"
#include "remote/ssh_identity.h"
#include "remote/ssh_session.h"

namespace standby {

// A host an agent runs on.
struct HostAddress {
  std::string user = "root";
  std::string host;
  uint16_t port = 22;
  // The name its host key is pinned under: the provider's instance id, or "" for host:port.
  std::string pin_name;
  // Connect and handshake bound for this host (0: the factory's default).
  std::chrono::milliseconds connect_timeout{0};
  std::string Describe() const;  // "user@host:port"
};

// Makes transports to hosts: SSH in production, in-process hosts in tests. Thread-safe.
class TransportFactory {
 public:
  virtual ~TransportFactory() = default;
  // A transport for `address`; it connects on its first job (so errors are the jobs').
  virtual std::unique_ptr<AgentTransport> Connect(const HostAddress& address) = 0;
  // The host behind `pin_name` and the `endpoints` ("host:port") was destroyed: its host-key
  // pins are removed, so a later machine on a reused address is not refused as a changed
  // key. Nothing to do for transports without pins.
  virtual Status ForgetHost(const std::string& /*pin_name*/,
                            const std::vector<std::string>& /*endpoints*/) {
    return OkStatus();
  }
};

// How the controller speaks SSH: its key, the host-key pins, timeouts and the agent binary
// it deploys.
struct SshSettings {
  std::string private_key_path;
  std::string state_dir;  // host-key pins live under <state_dir>/ssh/host_keys
  std::string agent_path;
  std::chrono::milliseconds connect_timeout{10000};
  Clock* clock = nullptr;  // required
};

// From the configuration: the `ssh.key` setting or the controller's own key (made on first
// use under the state dir), the `agent_path` setting or standby-agent beside this binary.
Result<SshSettings> SshSettingsFromConfig(const Config& config, const std::string& state_dir,
                                          Clock* clock);

// The key the controller logs in with: the `ssh.key` setting (STANDBY_SSH_KEY), else its own
// (made on first use under the state dir). What `ssh-key` prints and hosts must accept.
Result<SshIdentity> ControllerIdentityFromConfig(const Config& config,
                                                 const std::string& state_dir);

// The standby-agent binary to deploy: the `agent_path` setting, else the one beside the
// running standby binary.
Result<std::string> AgentBinaryFromConfig(const Config& config);

class SshTransportFactory : public TransportFactory {
 public:
  explicit SshTransportFactory(SshSettings settings);
  std::unique_ptr<AgentTransport> Connect(const HostAddress& address) override;
  Status ForgetHost(const std::string& pin_name,
                    const std::vector<std::string>& endpoints) override;
  // The SSH options Connect uses for `address` (the pins are this factory's).
  SshOptions OptionsFor(const HostAddress& address);

 private:
  SshSettings settings_;
  HostKeyPins pins_;
};

// The agent as a subprocess of this machine, whatever the address (commands without --ssh).
class LocalTransportFactory : public TransportFactory {
 public:
  LocalTransportFactory(std::string agent_path, Clock* clock)
      : agent_path_(std::move(agent_path)), clock_(clock) {}
  std::unique_ptr<AgentTransport> Connect(const HostAddress& address) override;

 private:
  std::string agent_path_;
  Clock* clock_;
};

}  // namespace standby
