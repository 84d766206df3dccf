#pragma once

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"
#include "remote/agent_channel.h"
#include "remote/agent_protocol.h"

namespace standby {

// Runs agent jobs somewhere and streams their events back: a local subprocess or an SSH
// host (remote/ssh_transport.h).
class AgentTransport {
 public:
  virtual ~AgentTransport() = default;
  // Runs `job`, calling `on_event` for every progress/log event; returns the result's data,
  // or the agent's error, or an error saying the agent ended without a result.
  virtual Result<nlohmann::json> RunJob(const AgentJob& job,
                                        const std::function<void(const AgentEvent&)>& on_event) = 0;
  // Set before RunJob to make it stoppable from another thread.
  void SetCancelFlag(const std::atomic<bool>* cancel) { cancel_ = cancel; }
  // What the last failed job found, when the agent sent it (a failed verification's
  // mismatches); null otherwise.
  const nlohmann::json& failure_data() const { return failure_data_; }

 protected:
  const std::atomic<bool>* cancel_ = nullptr;
  nlohmann::json failure_data_;
};

// The agent as a local subprocess: the job goes to its stdin (never argv or environment),
// events come from its stdout. For tests and for local simulated hosts without sshd.
class LocalTransport : public AgentTransport {
 public:
  explicit LocalTransport(std::string agent_path) : agent_path_(std::move(agent_path)) {}
  Result<nlohmann::json> RunJob(const AgentJob& job,
                                const std::function<void(const AgentEvent&)>& on_event) override;

 private:
  std::string agent_path_;
};

}  // namespace standby
