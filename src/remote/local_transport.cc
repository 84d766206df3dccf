#include "remote/local_transport.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "env/child_process_env.h"

namespace standby {
namespace {

void CloseFd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

// A local agent process's pipes.
class LocalChannel : public AgentChannel {
 public:
  LocalChannel(pid_t pid, int in, int out, int err, Clock* clock)
      : pid_(pid), in_(in), out_(out), err_(err), clock_(clock) {
    ::fcntl(in_, F_SETFL, ::fcntl(in_, F_GETFL) | O_NONBLOCK);
  }
  ~LocalChannel() override {
    CloseFd(&in_);
    CloseFd(&out_);
    CloseFd(&err_);
    Reap();
  }

  // A full pipe is waited on for kAgentWriteTimeout at most: an agent that stops reading
  // its input cannot block the controller.
  Status Write(std::string_view data) override {
    const int64_t deadline =
        clock_->MonotonicNanos() +
        std::chrono::duration_cast<std::chrono::nanoseconds>(kAgentWriteTimeout).count();
    while (!data.empty()) {
      ssize_t n = ::write(in_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        const int64_t left_ms = (deadline - clock_->MonotonicNanos()) / 1'000'000;
        if (left_ms <= 0) return UnavailableError("the local agent stopped reading its input");
        pollfd fd = {in_, POLLOUT, 0};
        ::poll(&fd, 1, static_cast<int>(std::min<int64_t>(left_ms, 200)));
        continue;
      }
      // The agent died early: its exit status, seen at eof, says why.
      if (n <= 0) return OkStatus();
      data.remove_prefix(static_cast<size_t>(n));
    }
    return OkStatus();
  }

  Status CloseStdin() override {
    CloseFd(&in_);
    return OkStatus();
  }

  Result<ChannelOutput> Read(std::chrono::milliseconds timeout) override {
    ChannelOutput output;
    pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
    int ready = ::poll(fds, 2, static_cast<int>(timeout.count()));
    if (ready < 0 && errno != EINTR) return ErrnoError(errno, "poll agent output");
    if (ready <= 0) return output;
    char buf[65536];
    if (err_ >= 0 && (fds[1].revents & (POLLIN | POLLHUP))) {
      ssize_t n = ::read(err_, buf, sizeof(buf));
      if (n > 0) output.err.append(buf, static_cast<size_t>(n));
      if (n == 0) CloseFd(&err_);
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(out_, buf, sizeof(buf));
      if (n > 0) output.out.append(buf, static_cast<size_t>(n));
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        output.eof = true;
        DrainStderr(&output.err);
      }
    }
    return output;
  }

  std::string Ending() override {
    Reap();
    if (WIFSIGNALED(status_)) return "was killed by signal " + std::to_string(WTERMSIG(status_));
    return "exited with status " + std::to_string(WEXITSTATUS(status_));
  }

  void Terminate() override {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
    CloseFd(&in_);
  }

 private:
  void DrainStderr(std::string* into) {
    if (err_ < 0) return;
    ::fcntl(err_, F_SETFL, O_NONBLOCK);
    char buf[4096];
    ssize_t n;
    while (into->size() < kMaxStderrPerRead && (n = ::read(err_, buf, sizeof(buf))) > 0) {
      into->append(buf, static_cast<size_t>(n));
    }
  }

  void Reap() {
    if (pid_ <= 0) return;
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  pid_t pid_;
  int in_, out_, err_;
  Clock* clock_;
  int status_ = 0;
};

}  // namespace

ConversationOptions AgentTransport::BaseOptions(Clock* clock) {
  ConversationOptions options;
  options.clock = clock;
  options.cancel = cancel_;
  options.cancel_grace = cancel_grace_;
  options.hello_timeout = hello_timeout_;
  options.job_timeout = job_timeout_;
  options.idle_timeout = idle_timeout_;
  options.authorize = authorize_;
  failure_data_ = nullptr;
  options.failure_data = &failure_data_;
  return options;
}

Result<nlohmann::json> LocalTransport::RunJob(
    const AgentJob& job, const std::function<void(const AgentEvent&)>& on_event) {
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe");
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    int saved = errno;
    ::close(in[0]);
    ::close(in[1]);
    return ErrnoError(saved, "pipe");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  char* argv[] = {agent_path_.data(), nullptr};
  pid_t pid = -1;
  ChildEnvironment env;  // never the controller's secrets
  SpawnAttributes attr;
  int rc = posix_spawn(&pid, agent_path_.c_str(), &actions, attr.get(), argv, env.envp());
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    return ErrnoError(rc, "start agent " + agent_path_);
  }
  ::signal(SIGPIPE, SIG_IGN);
  LocalChannel channel(pid, in[1], out[0], err[0], clock_);
  ConversationOptions options = BaseOptions(clock_);
  return RunAgentConversation(channel, job, on_event, options);
}

}  // namespace standby
