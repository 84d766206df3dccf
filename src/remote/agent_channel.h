#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"
#include "env/clock.h"
#include "remote/agent_protocol.h"

namespace standby {

// What one read from a running agent produced.
struct ChannelOutput {
  std::string out;         // stdout bytes
  std::string err;         // stderr bytes (at most kMaxStderrPerRead; the latest ones)
  size_t err_dropped = 0;  // stderr bytes read and discarded beyond that
  bool eof = false;        // stdout is closed: the agent has ended (or the connection has)
};

// A started standby-agent's standard streams, wherever it runs (local subprocess, SSH
// channel). Single-threaded: one conversation drives it.
class AgentChannel {
 public:
  virtual ~AgentChannel() = default;
  virtual Status Write(std::string_view data) = 0;
  virtual Status CloseStdin() = 0;
  // Waits up to `timeout` for output. Returns what arrived (possibly nothing); an error when
  // the transport itself failed (connection lost).
  virtual Result<ChannelOutput> Read(std::chrono::milliseconds timeout) = 0;
  // After eof: "exited with status N" / "was killed by signal N" / "ended".
  virtual std::string Ending() = 0;
  // Asks the agent to stop (TERM) and abandons the streams.
  virtual void Terminate() = 0;
};

struct ConversationOptions {
  Clock* clock = nullptr;  // required: the hello deadline runs on it
  // Time the agent has to say hello after it was started.
  std::chrono::milliseconds hello_timeout{30000};
  // Time it then has to send its result (0 = no limit); past it the agent is terminated.
  std::chrono::milliseconds job_timeout{0};
  // Longest silence allowed after the hello (0 = no limit): a running job sends a heartbeat
  // every 5 s, so silence means the host or its connection stalled.
  std::chrono::milliseconds idle_timeout{0};
  // Polled between reads; when set, the agent is terminated and the job fails — after
  // `cancel_grace`, when that is not 0: it is sent kAgentCancelLine first, which stops the job
  // at its next chunk, and its own result (saying what it cleaned up) is awaited that long.
  const std::atomic<bool>* cancel = nullptr;
  std::chrono::milliseconds cancel_grace{0};
  // Called once with the hello event (first sign of life), before the job is sent.
  std::function<void(const nlohmann::json&)> on_hello;
  // When set, receives the `data` of a failed result (a verification's findings).
  nlohmann::json* failure_data = nullptr;
  // Answers the agent's `authorize` events: the presigned grant for one store operation of
  // its job, or the refusal sent back to it. Unset: every request is refused.
  std::function<Result<QueryParams>(const S3Operation&)> authorize;
};

// Bounds on what an agent may send (hostile input): one line, the stderr kept, all the
// stderr of one job (past it the job ends: an agent logs its events on stdout, stderr carries
// little more than a crash), and its grant requests (each may become a signature and a HEAD
// of the store; past the total the job ends, past the rate one is refused).
inline constexpr size_t kMaxAgentLine = 1 << 20;
inline constexpr size_t kAgentStderrTail = 2048;
inline constexpr size_t kMaxAgentStderrPerJob = 4 << 20;
inline constexpr int64_t kMaxAuthorizePerJob = 200'000;
inline constexpr int64_t kAuthorizePerSecond = 500;
inline constexpr int64_t kAuthorizeBurst = 2000;
// Longest a write to the agent may wait for it to read (a host that stops reading its input
// must not block the controller), and most stderr one Read takes in.
inline constexpr std::chrono::seconds kAgentWriteTimeout{30};
inline constexpr size_t kMaxStderrPerRead = 256 * 1024;
// Without a job timeout: how long a job may run after the hello. Data jobs are bounded by
// their silence (idle timeout) and this; the rest are short.
std::chrono::milliseconds DefaultJobDeadline(const std::string& command);

// Why an agent never said hello: its stream ended first (not found, crashed, wrong binary).
struct AgentDidNotStart {
  std::string ending;  // as AgentChannel::Ending
  std::string stderr_tail;
};

// Runs the protocol on a started agent: waits for its hello and checks the protocol version,
// sends `job`, answers its grant requests, forwards progress/log events, and returns the
// result's data or the agent's error. Everything the agent sends is hostile input: a
// malformed event, an over-long line, silence or a job past its deadline ends the job with
// an error (the agent is terminated), never an exception. An agent that ends or loses its
// connection before its result is an error, never a success. When the agent ends before
// saying hello and `did_not_start` is non-null, it is filled and kUnavailable returned.
Result<nlohmann::json> RunAgentConversation(AgentChannel& channel, const AgentJob& job,
                                            const std::function<void(const AgentEvent&)>& on_event,
                                            const ConversationOptions& options,
                                            AgentDidNotStart* did_not_start = nullptr);

// The Error an agent's {"type":"result","ok":false,"error":{...}} event describes.
Error AgentError(const nlohmann::json& error);

}  // namespace standby
