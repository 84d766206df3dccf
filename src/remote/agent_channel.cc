#include "remote/agent_channel.h"

#include <optional>

#include "base/json_fields.h"
#include "base/strings.h"

namespace standby {
namespace {

using nlohmann::json;

constexpr std::chrono::milliseconds kShortJobDeadline{120'000};
constexpr std::chrono::milliseconds kDataJobDeadline{12LL * 3600 * 1000};

std::string LastLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  size_t newline = text.rfind('\n');
  return newline == std::string::npos ? text : text.substr(newline + 1);
}

int64_t Nanos(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// One run of the protocol on one channel.
class Conversation {
 public:
  Conversation(AgentChannel& channel, const AgentJob& job,
               const std::function<void(const AgentEvent&)>& on_event,
               const ConversationOptions& options)
      : channel_(channel), job_(job), on_event_(on_event), options_(options) {}

  Result<json> Run(AgentDidNotStart* did_not_start);

 private:
  Status OnLine(std::string_view line);
  Status OnHello(const json& body);
  Status OnAuthorize(const json& body);
  Status TakeResult(const json& body);
  // Splits complete lines out of pending_, scanning only bytes not scanned before.
  Status DrainLines();
  // Past a deadline or cancelled: the error to end with. A cancel with a grace period first
  // closes the agent's input (it stops at its next chunk and cleans up) and waits for its
  // result until the grace period ends.
  std::optional<Error> Expired();

  AgentChannel& channel_;
  const AgentJob& job_;
  const std::function<void(const AgentEvent&)>& on_event_;
  const ConversationOptions& options_;
  bool hello_seen_ = false;
  int64_t hello_deadline_ = 0;
  int64_t job_deadline_ = 0;
  int64_t job_deadline_ms_ = 0;
  int64_t last_output_ns_ = 0;
  int64_t cancel_deadline_ = 0;
  std::optional<json> result_;
  std::optional<Error> protocol_error_;
  std::string pending_, stderr_tail_;
  size_t scanned_ = 0;
  size_t stderr_bytes_ = 0;
  int64_t authorize_count_ = 0;
  double authorize_tokens_ = kAuthorizeBurst;
  int64_t authorize_refilled_ns_ = 0;
};

Status Conversation::OnHello(const json& body) {
  JsonFields f(body, "agent hello");
  int64_t protocol = f.Int("protocol", 0, 1 << 20);
  RETURN_IF_ERROR(f.status());
  if (protocol != kAgentProtocolVersion) {
    return InvalidArgumentError("the agent on the host speaks protocol " +
                                std::to_string(protocol) + ", this controller " +
                                std::to_string(kAgentProtocolVersion));
  }
  hello_seen_ = true;
  std::chrono::milliseconds deadline =
      options_.job_timeout.count() > 0 ? options_.job_timeout : DefaultJobDeadline(job_.command);
  job_deadline_ms_ = deadline.count();
  job_deadline_ = options_.clock->MonotonicNanos() + Nanos(deadline);
  if (options_.on_hello) options_.on_hello(body);
  // Stdin stays open: grant answers follow the job on it.
  return channel_.Write(DumpJson(AgentJobToJson(job_)) + "\n");
}

Status Conversation::OnAuthorize(const json& body) {
  JsonFields f(body, "agent authorize request");
  int64_t id = f.Int("id", 0, int64_t{1} << 40);
  RETURN_IF_ERROR(f.status());
  ASSIGN_OR_RETURN(S3Operation op, ParseS3Operation(body));
  if (++authorize_count_ > kMaxAuthorizePerJob) {
    return ResourceExhaustedError("the agent asked for more than " +
                                  std::to_string(kMaxAuthorizePerJob) +
                                  " store grants in one job and was stopped");
  }
  const int64_t now = options_.clock->MonotonicNanos();
  authorize_tokens_ = std::min<double>(
      kAuthorizeBurst, authorize_tokens_ + static_cast<double>(now - authorize_refilled_ns_) *
                                               kAuthorizePerSecond / 1e9);
  authorize_refilled_ns_ = now;
  const bool within_rate = authorize_tokens_ >= 1;
  if (within_rate) authorize_tokens_ -= 1;
  Result<QueryParams> grant =
      !within_rate         ? ResourceExhaustedError("grant requests come faster than " +
                                                    std::to_string(kAuthorizePerSecond) +
                                                    " a second; this one is refused")
      : options_.authorize ? options_.authorize(op)
                           : PermissionDeniedError("this job has no store grants");
  json answer = {{"type", "grant"}, {"id", id}};
  if (grant) {
    answer["query"] = QueryToJson(*grant);
  } else {
    answer["error"] = {{"code", ErrorCodeName(grant.error().code)},
                       {"message", grant.error().message}};
  }
  return channel_.Write(DumpJson(answer) + "\n");
}

Status Conversation::TakeResult(const json& body) {
  JsonFields f(body, "agent result");
  f.Bool("ok");
  RETURN_IF_ERROR(f.status());
  if (body.contains("data") && !body["data"].is_object() && !body["data"].is_null()) {
    return CorruptionError("agent result: field \"data\" is not an object");
  }
  result_ = body;
  return OkStatus();
}

Status Conversation::OnLine(std::string_view line) {
  if (line.empty()) return OkStatus();
  auto event = ParseAgentEvent(line);
  if (!event || !event->body.is_object()) {
    if (!protocol_error_) {
      protocol_error_ =
          event ? CorruptionError("agent sent an event that is not an object") : event.error();
    }
    return OkStatus();
  }
  if (event->type == "hello") {
    if (hello_seen_) return CorruptionError("agent said hello twice");
    return OnHello(event->body);
  }
  if (!hello_seen_) return CorruptionError("agent sent \"" + event->type + "\" before its hello");
  if (event->type == "result") return TakeResult(event->body);
  if (event->type == "authorize") return OnAuthorize(event->body);
  if (event->type == "heartbeat") return OkStatus();  // proof of life, counted by the loop
  if (on_event_) on_event_(*event);
  return OkStatus();
}

Status Conversation::DrainLines() {
  size_t start = 0, newline;
  while (!result_ &&
         (newline = pending_.find('\n', std::max(start, scanned_))) != std::string::npos) {
    Status status = OnLine(std::string_view(pending_).substr(start, newline - start));
    start = newline + 1;
    if (!status) return status;
  }
  pending_.erase(0, start);
  scanned_ = pending_.size();
  if (pending_.size() > kMaxAgentLine) {
    return CorruptionError("agent sent a line longer than " + std::to_string(kMaxAgentLine >> 20) +
                           " MiB");
  }
  return OkStatus();
}

std::optional<Error> Conversation::Expired() {
  const int64_t now = options_.clock->MonotonicNanos();
  if (options_.cancel && options_.cancel->load()) {
    if (options_.cancel_grace.count() == 0) {
      return UnavailableError("the job was cancelled; the agent was told to stop");
    }
    if (!hello_seen_) {
      channel_.Terminate();
      return CancelledError("interrupted before the agent started its job; nothing ran");
    }
    if (cancel_deadline_ == 0) {
      // Not the end of its input: the agent may need grants to clean up (delete its lock).
      Status told = channel_.Write(std::string(kAgentCancelLine) + "\n");
      if (!told) {
        channel_.Terminate();
        return CancelledError("interrupted: the agent could not be told to stop (" +
                              told.error().message + ") and was terminated");
      }
      cancel_deadline_ = now + Nanos(options_.cancel_grace);
    } else if (now > cancel_deadline_) {
      return CancelledError(
          "interrupted: the agent did not stop within " +
          HumanSeconds(static_cast<double>(options_.cancel_grace.count()) / 1000) +
          " and was told to stop; it may leave temporary files");
    }
  }
  if (!hello_seen_ && now > hello_deadline_) {
    return DeadlineExceededError("the agent did not start within " +
                                 std::to_string(options_.hello_timeout.count()) + " ms");
  }
  if (hello_seen_ && now > job_deadline_) {
    return DeadlineExceededError("the agent did not finish within " +
                                 HumanSeconds(static_cast<double>(job_deadline_ms_) / 1000) +
                                 " of starting the job");
  }
  if (hello_seen_ && options_.idle_timeout.count() > 0 &&
      now - last_output_ns_ > Nanos(options_.idle_timeout)) {
    return DeadlineExceededError("the agent sent nothing for " +
                                 std::to_string(options_.idle_timeout.count() / 1000) +
                                 " s; the host or its connection stalled");
  }
  return std::nullopt;
}

Result<json> Conversation::Run(AgentDidNotStart* did_not_start) {
  hello_deadline_ = options_.clock->MonotonicNanos() + Nanos(options_.hello_timeout);
  authorize_refilled_ns_ = options_.clock->MonotonicNanos();
  last_output_ns_ = options_.clock->MonotonicNanos();
  while (!result_) {
    if (std::optional<Error> expired = Expired()) {
      channel_.Terminate();
      return *expired;
    }
    auto output = channel_.Read(std::chrono::milliseconds(200));
    if (!output) {
      return Error{output.error().code,
                   output.error().message + (hello_seen_ ? "; the job did not complete" : ""),
                   output.error().retryable};
    }
    if (!output->out.empty() || !output->err.empty()) {
      last_output_ns_ = options_.clock->MonotonicNanos();
    }
    stderr_bytes_ += output->err.size() + output->err_dropped;
    stderr_tail_ += output->err;
    if (stderr_tail_.size() > kAgentStderrTail) {
      stderr_tail_.erase(0, stderr_tail_.size() - kAgentStderrTail);
    }
    if (stderr_bytes_ > kMaxAgentStderrPerJob) {
      channel_.Terminate();
      return ResourceExhaustedError(
          "the agent wrote more than " + std::to_string(kMaxAgentStderrPerJob >> 20) +
          " MiB to its stderr and was stopped (last: " + EscapeControl(LastLine(stderr_tail_)) +
          ")");
    }
    pending_ += output->out;
    if (Status lines = DrainLines(); !lines) {
      channel_.Terminate();
      return lines.error();
    }
    if (output->eof) {
      if (!pending_.empty() && !result_) RETURN_IF_ERROR(OnLine(pending_));
      break;
    }
  }
  if (result_) {
    if ((*result_)["ok"].get<bool>()) return result_->value("data", json::object());
    if (options_.failure_data && result_->contains("data")) {
      *options_.failure_data = (*result_)["data"];
    }
    return AgentError(result_->contains("error") ? (*result_)["error"] : json::object());
  }
  std::string ending = channel_.Ending();
  if (!hello_seen_ && did_not_start) *did_not_start = {ending, stderr_tail_};
  if (protocol_error_) return *protocol_error_;
  std::string detail =
      stderr_tail_.empty() ? "" : " (" + EscapeControl(LastLine(stderr_tail_)) + ")";
  return UnavailableError("agent " + ending + " before reporting a result" + detail +
                          "; the job did not complete");
}

}  // namespace

std::chrono::milliseconds DefaultJobDeadline(const std::string& command) {
  if (command == "snapshot" || command == "restore" || command == "verify") {
    return kDataJobDeadline;
  }
  return kShortJobDeadline;
}

Error AgentError(const json& error) {
  static const json kNoDetail = json::object();
  JsonFields f(error.is_object() ? error : kNoDetail, "agent error");
  std::string code = f.OptionalString("code", 64).value_or("internal");
  std::string message =
      "agent: " + EscapeControl(f.OptionalString("message", 4096).value_or("failed"));
  bool retryable = f.OptionalBool("retryable").value_or(false);
  if (!f.status())
    return CorruptionError("agent sent a malformed error: " + f.status().error().message);
  ErrorCode mapped = ErrorCode::kInternal;
  for (ErrorCode c :
       {ErrorCode::kNotFound, ErrorCode::kInvalidArgument, ErrorCode::kUnavailable,
        ErrorCode::kDeadlineExceeded, ErrorCode::kPermissionDenied, ErrorCode::kConflict,
        ErrorCode::kCorruption, ErrorCode::kResourceExhausted, ErrorCode::kCancelled}) {
    if (ErrorCodeName(c) == code) mapped = c;
  }
  return Error{mapped, message, retryable};
}

Result<json> RunAgentConversation(AgentChannel& channel, const AgentJob& job,
                                  const std::function<void(const AgentEvent&)>& on_event,
                                  const ConversationOptions& options,
                                  AgentDidNotStart* did_not_start) {
  try {
    Conversation conversation(channel, job, on_event, options);
    return conversation.Run(did_not_start);
  } catch (const std::exception& e) {
    // A last line of defence: no input reaches here, but the job must end, not the process.
    channel.Terminate();
    return InternalError(std::string("agent conversation failed: ") + e.what());
  }
}

}  // namespace standby
