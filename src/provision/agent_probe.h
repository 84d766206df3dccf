#pragma once

#include <string>

#include "provision/race.h"
#include "remote/transport_factory.h"

namespace standby {

// "Ready" for real hosts: a connection with the controller's key (the host key pinned under
// the instance id), then `standby-agent health` answering — deploying the agent on the
// way, so the winner is ready for its restore. Endpoints are tried in the provider's order
// (direct before proxy). Thread-safe as the factory is.
class AgentHealthProbe : public ReadinessProbe {
 public:
  // `transports` is not owned; `default_user` is used when the provider names no user.
  AgentHealthProbe(TransportFactory* transports, std::string default_user)
      : transports_(transports), default_user_(std::move(default_user)) {}
  Status Probe(const Instance& instance) override;
  void Forget(const Instance& instance) override;

 private:
  TransportFactory* transports_;
  std::string default_user_;
};

}  // namespace standby
