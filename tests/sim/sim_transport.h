#pragma once

#include "remote/local_transport.h"
#include "remote/transport_factory.h"

namespace standby::sim {

class World;

// The agent on a simulated host (sim_world.h): each job is answered from the host's model,
// taking simulated time. Errors are those a real transport gives (refused, reset, timed
// out); a partitioned host is reachable by its users but not by the controller.
class SimTransport : public AgentTransport {
 public:
  SimTransport(World* world, HostAddress address) : world_(world), address_(std::move(address)) {}
  Result<nlohmann::json> RunJob(const AgentJob& job,
                                const std::function<void(const AgentEvent&)>& on_event) override;

 private:
  // Takes `seconds` of simulated time: kDeadlineExceeded past the job's deadline,
  // kUnavailable when the caller cancels meanwhile.
  Status Takes(double seconds);

  World* world_;
  HostAddress address_;
};

class SimHosts : public TransportFactory {
 public:
  explicit SimHosts(World* world) : world_(world) {}
  std::unique_ptr<AgentTransport> Connect(const HostAddress& address) override {
    return std::make_unique<SimTransport>(world_, address);
  }

 private:
  World* world_;
};

}  // namespace standby::sim
