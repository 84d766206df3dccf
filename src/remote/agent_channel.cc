#include "remote/agent_channel.h"

#include <optional>

#include "base/strings.h"

namespace standby {
namespace {

constexpr size_t kStderrTail = 2048;

// Splits complete lines out of `pending`.
template <typename F>
Status DrainLines(std::string* pending, F&& on_line) {
  size_t start = 0, newline;
  while ((newline = pending->find('\n', start)) != std::string::npos) {
    Status status = on_line(std::string_view(*pending).substr(start, newline - start));
    start = newline + 1;
    if (!status) {
      pending->erase(0, start);
      return status;
    }
  }
  pending->erase(0, start);
  return OkStatus();
}

std::string LastLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  size_t newline = text.rfind('\n');
  return newline == std::string::npos ? text : text.substr(newline + 1);
}

}  // namespace

Error AgentError(const nlohmann::json& error) {
  std::string code = error.value("code", "internal");
  std::string message = "agent: " + error.value("message", "failed");
  bool retryable = error.value("retryable", false);
  ErrorCode mapped = ErrorCode::kInternal;
  for (ErrorCode c :
       {ErrorCode::kNotFound, ErrorCode::kInvalidArgument, ErrorCode::kUnavailable,
        ErrorCode::kDeadlineExceeded, ErrorCode::kPermissionDenied, ErrorCode::kConflict,
        ErrorCode::kCorruption, ErrorCode::kResourceExhausted}) {
    if (ErrorCodeName(c) == code) mapped = c;
  }
  return Error{mapped, message, retryable};
}

Result<nlohmann::json> RunAgentConversation(AgentChannel& channel, const AgentJob& job,
                                            const std::function<void(const AgentEvent&)>& on_event,
                                            const ConversationOptions& options,
                                            AgentDidNotStart* did_not_start) {
  const int64_t hello_deadline =
      options.clock->MonotonicNanos() +
      std::chrono::duration_cast<std::chrono::nanoseconds>(options.hello_timeout).count();
  bool hello_seen = false;
  int64_t job_deadline = 0;
  int64_t last_output_ns = options.clock->MonotonicNanos();
  std::optional<nlohmann::json> result;
  std::optional<Error> protocol_error;
  std::string pending, stderr_tail;

  auto on_line = [&](std::string_view line) -> Status {
    if (line.empty()) return OkStatus();
    auto event = ParseAgentEvent(line);
    if (!event) {
      if (!protocol_error) protocol_error = event.error();
      return OkStatus();
    }
    if (event->type == "hello") {
      int protocol = event->body.value("protocol", 0);
      if (protocol != kAgentProtocolVersion) {
        return InvalidArgumentError("the agent on the host speaks protocol " +
                                    std::to_string(protocol) + ", this controller " +
                                    std::to_string(kAgentProtocolVersion));
      }
      hello_seen = true;
      job_deadline =
          options.clock->MonotonicNanos() +
          std::chrono::duration_cast<std::chrono::nanoseconds>(options.job_timeout).count();
      if (options.on_hello) options.on_hello(event->body);
      std::string text = AgentJobToJson(job).dump() + "\n";
      RETURN_IF_ERROR(channel.Write(text));
      return channel.CloseStdin();
    }
    if (event->type == "result") {
      result = event->body;
    } else if (event->type == "heartbeat") {
      // only proof of life (counted by the read loop)
    } else if (on_event) {
      on_event(*event);
    }
    return OkStatus();
  };

  while (!result) {
    if (options.cancel && options.cancel->load()) {
      channel.Terminate();
      return UnavailableError("the job was cancelled; the agent was told to stop");
    }
    if (hello_seen && options.job_timeout.count() > 0 &&
        options.clock->MonotonicNanos() > job_deadline) {
      channel.Terminate();
      return DeadlineExceededError("the agent did not finish within " +
                                   std::to_string(options.job_timeout.count()) +
                                   " ms of starting the job");
    }
    if (!hello_seen && options.clock->MonotonicNanos() > hello_deadline) {
      channel.Terminate();
      return DeadlineExceededError("the agent did not start within " +
                                   std::to_string(options.hello_timeout.count()) + " ms");
    }
    if (hello_seen && options.idle_timeout.count() > 0 &&
        options.clock->MonotonicNanos() - last_output_ns >
            std::chrono::duration_cast<std::chrono::nanoseconds>(options.idle_timeout).count()) {
      channel.Terminate();
      return DeadlineExceededError("the agent sent nothing for " +
                                   std::to_string(options.idle_timeout.count() / 1000) +
                                   " s; the host or its connection stalled");
    }
    auto output = channel.Read(std::chrono::milliseconds(200));
    if (!output) {
      return Error{output.error().code,
                   output.error().message + (hello_seen ? "; the job did not complete" : ""),
                   output.error().retryable};
    }
    if (!output->out.empty() || !output->err.empty()) {
      last_output_ns = options.clock->MonotonicNanos();
    }
    stderr_tail += output->err;
    if (stderr_tail.size() > kStderrTail) stderr_tail.erase(0, stderr_tail.size() - kStderrTail);
    pending += output->out;
    Status lines = DrainLines(&pending, on_line);
    if (!lines) {
      channel.Terminate();
      return lines.error();
    }
    if (output->eof) {
      if (!pending.empty() && !result) RETURN_IF_ERROR(on_line(pending));
      break;
    }
  }
  if (result) {
    if (result->value("ok", false)) return result->value("data", nlohmann::json::object());
    if (options.failure_data && result->contains("data")) *options.failure_data = (*result)["data"];
    return AgentError(result->value("error", nlohmann::json::object()));
  }
  std::string ending = channel.Ending();
  if (!hello_seen && did_not_start) *did_not_start = {ending, stderr_tail};
  if (protocol_error) return *protocol_error;
  std::string detail = stderr_tail.empty() ? "" : " (" + LastLine(stderr_tail) + ")";
  return UnavailableError("agent " + ending + " before reporting a result" + detail +
                          "; the job did not complete");
}

}  // namespace standby
