#pragma once

#include <chrono>
#include <string>

#include "provider/race.h"
#include "remote/host_keys.h"

namespace standby {

// "Ready" for real hosts: an SSH handshake with the controller's key (host key pinned under
// the instance id), then `standby-agent health` answering — deploying the agent on the way,
// so the winner is ready for its restore. Endpoints are tried in the provider's order
// (direct before proxy).
class AgentHealthProbe : public ReadinessProbe {
 public:
  struct Options {
    std::string user = "root";
    std::string private_key_path;
    std::string agent_path;
    HostKeyPins* pins = nullptr;
    std::chrono::milliseconds connect_timeout{5000};
  };
  explicit AgentHealthProbe(Options options) : options_(std::move(options)) {}
  Status Probe(const Instance& instance) override;

 private:
  Options options_;
};

}  // namespace standby
