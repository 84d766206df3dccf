#pragma once

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"
#include "env/clock.h"
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
  // Set before RunJob: answers the job's store grant requests (ConversationOptions).
  void SetAuthorizer(std::function<Result<QueryParams>(const S3Operation&)> authorize) {
    authorize_ = std::move(authorize);
  }
  // Set before RunJob to make it stoppable from another thread (ConversationOptions::cancel,
  // cancel_grace).
  void SetCancelFlag(const std::atomic<bool>* cancel,
                     std::chrono::milliseconds grace = std::chrono::milliseconds(0)) {
    cancel_ = cancel;
    cancel_grace_ = grace;
  }
  // How long the agent has to say hello, then to send its result, and at most between two
  // of its lines (0 = no limit; ConversationOptions). Every job heartbeats every 5 s, so the
  // default idle bound only ends jobs whose host or connection stalled.
  static constexpr std::chrono::milliseconds kDefaultIdleTimeout{60000};
  void SetTimeouts(std::chrono::milliseconds hello, std::chrono::milliseconds job,
                   std::chrono::milliseconds idle = kDefaultIdleTimeout) {
    hello_timeout_ = hello;
    job_timeout_ = job;
    idle_timeout_ = idle;
  }
  // What the last failed job found, when the agent sent it (a failed verification's
  // mismatches); null otherwise, and null again after ForgetFailure (a job that fails
  // before it reaches the agent leaves it alone: forget it before each job).
  const nlohmann::json& failure_data() const { return failure_data_; }
  void ForgetFailure() { failure_data_ = nullptr; }
  // Where and how the last job ran, for a command to print ({"local": agent} or {"ssh":
  // user@host:port, connect, upload and first-event timings}).
  virtual nlohmann::json Report() const { return nlohmann::json::object(); }

 protected:
  // The conversation options every transport starts from: cancel flag, timeouts, clock.
  ConversationOptions BaseOptions(Clock* clock);

  const std::atomic<bool>* cancel_ = nullptr;
  std::chrono::milliseconds cancel_grace_{0};
  std::function<Result<QueryParams>(const S3Operation&)> authorize_;
  std::chrono::milliseconds hello_timeout_{30000};
  std::chrono::milliseconds job_timeout_{0};
  std::chrono::milliseconds idle_timeout_{kDefaultIdleTimeout};
  nlohmann::json failure_data_;
};

// The agent as a local subprocess: the job goes to its stdin (never argv or environment),
// events come from its stdout. For tests and for local simulated hosts without sshd.
class LocalTransport : public AgentTransport {
 public:
  LocalTransport(std::string agent_path, Clock* clock)
      : agent_path_(std::move(agent_path)), clock_(clock) {}
  Result<nlohmann::json> RunJob(const AgentJob& job,
                                const std::function<void(const AgentEvent&)>& on_event) override;
  nlohmann::json Report() const override { return {{"local", agent_path_}}; }

 private:
  std::string agent_path_;
  Clock* clock_;
};

}  // namespace standby
