#include "remote/local_transport.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace standby {

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

Result<nlohmann::json> LocalTransport::RunJob(
    const AgentJob& job, const std::function<void(const AgentEvent&)>& on_event) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe");
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return ErrnoError(errno, "pipe");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  char* argv[] = {agent_path_.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawn(&pid, agent_path_.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    return ErrnoError(rc, "start agent " + agent_path_);
  }
  std::string job_text = AgentJobToJson(job).dump();
  ::signal(SIGPIPE, SIG_IGN);
  size_t written = 0;
  while (written < job_text.size()) {
    ssize_t n = ::write(in[1], job_text.data() + written, job_text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the agent died early; its exit status says why
    written += static_cast<size_t>(n);
  }
  ::close(in[1]);

  std::optional<nlohmann::json> result;
  std::optional<Error> protocol_error;
  std::string pending;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(out[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buf, static_cast<size_t>(n));
    size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      auto event = ParseAgentEvent(line);
      if (!event) {
        if (!protocol_error) protocol_error = event.error();
        continue;
      }
      if (event->type == "result") {
        result = event->body;
      } else if (on_event) {
        on_event(*event);
      }
    }
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (result) {
    if (result->value("ok", false)) return result->value("data", nlohmann::json::object());
    return AgentError(result->value("error", nlohmann::json::object()));
  }
  if (protocol_error) return *protocol_error;
  std::string how = WIFSIGNALED(status)
                        ? "was killed by signal " + std::to_string(WTERMSIG(status))
                        : "exited with status " + std::to_string(WEXITSTATUS(status));
  return UnavailableError("agent " + how + " before reporting a result; the job did not complete");
}

}  // namespace standby
