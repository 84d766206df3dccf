#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "remote/local_transport.h"
#include "remote/ssh_session.h"

namespace standby {

// What the last RunJob cost, for progress output and benchmarks.
struct SshJobTimings {
  double connect_ms = 0;  // TCP + handshake + auth (0 when the connection was reused)
  double upload_ms = 0;   // agent upload (0 when it was already there)
  bool uploaded = false;
  double first_event_ms = 0;  // RunJob called → the agent's hello
};

// Runs agent jobs on an SSH host. The agent binary is deployed once per host and content:
// ~/.cache/standby/agent-<sha256 of the binary>, uploaded over SFTP only when running it
// finds it absent. The job (with credentials) goes to the agent's stdin after its hello;
// nothing secret is put in a command line, a remote file or the environment.
class SshTransport : public AgentTransport {
 public:
  // `agent_path`: the local standby-agent binary to deploy.
  SshTransport(SshOptions options, std::string agent_path);
  ~SshTransport() override;

  Result<nlohmann::json> RunJob(const AgentJob& job,
                                const std::function<void(const AgentEvent&)>& on_event) override;

  const SshJobTimings& last_timings() const { return timings_; }
  nlohmann::json Report() const override;
  // "~/.cache/standby/agent-<sha256>" (after the first RunJob).
  const std::string& remote_agent_path() const { return remote_path_; }

 private:
  Status EnsureConnected();
  Status Deploy();

  SshOptions options_;
  std::string agent_path_;
  std::string agent_sha256_;
  std::string remote_path_;
  std::unique_ptr<SshSession> session_;
  SshJobTimings timings_;
};

}  // namespace standby
