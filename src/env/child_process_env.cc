#include "env/child_process_env.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace standby {
namespace {

constexpr const char* kPassed[] = {
    "PATH", "HOME",   "USER", "LOGNAME",      "SHELL",         "LANG",        "LC_ALL",
    "TZ",   "TMPDIR", "TERM", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"};

// Starts `argv` (looked up in PATH) in the minimal environment with default signals, stdin
// from /dev/null; with `stdout_fd` >= 0, stdout goes there and stderr to /dev/null.
Result<pid_t> SpawnMinimal(const std::vector<std::string>& argv, int stdout_fd) {
  if (argv.empty()) return InvalidArgumentError("no program to start");
  std::vector<std::string> args = argv;
  std::vector<char*> pointers;
  for (std::string& arg : args) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (stdout_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  }
  ChildEnvironment env;
  SpawnAttributes attr;
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, pointers[0], &actions, attr.get(), pointers.data(), env.envp());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return ErrnoError(rc, "start " + argv[0]);
  return pid;
}

}  // namespace

ChildEnvironment::ChildEnvironment() {
  for (const char* name : kPassed) {
    if (const char* value = std::getenv(name)) entries_.push_back(std::string(name) + "=" + value);
  }
  if (std::getenv("PATH") == nullptr) entries_.push_back("PATH=/usr/local/bin:/usr/bin:/bin");
  for (std::string& entry : entries_) pointers_.push_back(entry.data());
  pointers_.push_back(nullptr);
}

SpawnAttributes::SpawnAttributes(short extra_flags) {
  posix_spawnattr_init(&attr_);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr_, &none);
  posix_spawnattr_setsigdefault(&attr_, &defaults);
  posix_spawnattr_setflags(
      &attr_, static_cast<short>(extra_flags | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
}

void ResetSignalsInChild() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

SpawnAttributes::~SpawnAttributes() { posix_spawnattr_destroy(&attr_); }

Result<std::string> CaptureProgramOutput(const std::vector<std::string>& argv,
                                         std::chrono::milliseconds timeout, size_t max_bytes) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe");
  auto spawned = SpawnMinimal(argv, out[1]);
  ::close(out[1]);
  if (!spawned) {
    ::close(out[0]);
    return spawned.error();
  }
  const pid_t pid = *spawned;
  std::string output;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd readable{out[0], POLLIN, 0};
    int ready = ::poll(&readable, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;  // the deadline check above ends it
    char buf[4096];
    ssize_t n = ::read(out[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of its output
    output.append(buf,
                  std::min(static_cast<size_t>(n), max_bytes - std::min(max_bytes, output.size())));
  }
  ::close(out[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return DeadlineExceededError(argv[0] + " did not finish within " +
                                 std::to_string(timeout.count()) + " ms and was killed");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return UnavailableError(argv[0] + " failed (status " + std::to_string(status) + ")");
  }
  return output;
}

Result<int> RunProgram(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(const pid_t pid, SpawnMinimal(argv, -1));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoError(errno, "wait for " + argv[0]);
  }
  if (WIFSIGNALED(status)) {
    return UnavailableError(argv[0] + " was killed by signal " + std::to_string(WTERMSIG(status)));
  }
  return WEXITSTATUS(status);
}

}  // namespace standby
