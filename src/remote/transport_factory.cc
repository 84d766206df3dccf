#include "remote/transport_factory.h"

#include <unistd.h>

#include "env/file_system.h"
#include "env/host_info.h"
#include "remote/ssh_identity.h"
#include "remote/ssh_transport.h"

namespace standby {

std::string HostAddress::Describe() const { return user + "@" + host + ":" + std::to_string(port); }

Result<std::string> AgentBinaryFromConfig(const Config& config) {
  if (auto configured = config.Get("agent_path"); configured && !configured->empty()) {
    return *configured;
  }
  // Beside the binary (a build directory), else where `make install` and the .deb put it.
  ASSIGN_OR_RETURN(std::string self, SelfPath());
  const std::string beside = JoinPath(ParentPath(self), "standby-agent");
  const std::string installed =
      JoinPath(ParentPath(ParentPath(self)), "libexec/standby/standby-agent");
  if (::access(beside.c_str(), X_OK) != 0 && ::access(installed.c_str(), X_OK) == 0) {
    return installed;
  }
  return beside;
}

Result<SshIdentity> ControllerIdentityFromConfig(const Config& config,
                                                 const std::string& state_dir) {
  if (auto key = config.Get("ssh.key"); key && !key->empty()) {
    ASSIGN_OR_RETURN(std::string public_key, PublicKeyOf(*key));
    return SshIdentity{*key, public_key};
  }
  return EnsureControllerKey(FileSystem::Real(), state_dir);
}

Result<SshSettings> SshSettingsFromConfig(const Config& config, const std::string& state_dir,
                                          Clock* clock) {
  SshSettings settings;
  settings.state_dir = state_dir;
  settings.clock = clock;
  ASSIGN_OR_RETURN(SshIdentity identity, ControllerIdentityFromConfig(config, state_dir));
  settings.private_key_path = identity.private_key_path;
  ASSIGN_OR_RETURN(settings.agent_path, AgentBinaryFromConfig(config));
  ASSIGN_OR_RETURN(uint64_t connect_timeout, config.GetUint("ssh.connect_timeout_seconds"));
  settings.connect_timeout = std::chrono::seconds(std::max<uint64_t>(1, connect_timeout));
  return settings;
}

SshTransportFactory::SshTransportFactory(SshSettings settings)
    : settings_(std::move(settings)), pins_(FileSystem::Real(), settings_.state_dir) {}

Status SshTransportFactory::ForgetHost(const std::string& pin_name,
                                       const std::vector<std::string>& endpoints) {
  if (!pin_name.empty()) RETURN_IF_ERROR(pins_.Forget(pin_name));
  for (const std::string& endpoint : endpoints) RETURN_IF_ERROR(pins_.Forget(endpoint));
  return OkStatus();
}

std::unique_ptr<AgentTransport> SshTransportFactory::Connect(const HostAddress& address) {
  return std::make_unique<SshTransport>(OptionsFor(address), settings_.agent_path);
}

SshOptions SshTransportFactory::OptionsFor(const HostAddress& address) {
  SshOptions options;
  options.target = {address.user, address.host, address.port};
  options.private_key_path = settings_.private_key_path;
  options.pins = &pins_;
  options.pin_name = address.pin_name;
  options.connect_timeout =
      address.connect_timeout.count() > 0 ? address.connect_timeout : settings_.connect_timeout;
  options.clock = settings_.clock;
  return options;
}

std::unique_ptr<AgentTransport> LocalTransportFactory::Connect(const HostAddress&) {
  return std::make_unique<LocalTransport>(agent_path_, clock_);
}

}  // namespace standby
