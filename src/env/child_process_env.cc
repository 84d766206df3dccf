#include "env/child_process_env.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>

namespace standby {
namespace {

constexpr const char* kPassed[] = {
    "PATH", "HOME",   "USER", "LOGNAME",      "SHELL",         "LANG",        "LC_ALL",
    "TZ",   "TMPDIR", "TERM", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"};

}  // namespace

ChildEnvironment::ChildEnvironment() {
  for (const char* name : kPassed) {
    if (const char* value = std::getenv(name)) entries_.push_back(std::string(name) + "=" + value);
  }
  if (std::getenv("PATH") == nullptr) entries_.push_back("PATH=/usr/local/bin:/usr/bin:/bin");
  for (std::string& entry : entries_) pointers_.push_back(entry.data());
  pointers_.push_back(nullptr);
}

Result<int> RunProgram(const std::vector<std::string>& argv) {
  if (argv.empty()) return InvalidArgumentError("RunProgram: no program");
  std::vector<std::string> args = argv;
  std::vector<char*> pointers;
  for (std::string& arg : args) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ChildEnvironment env;
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, pointers[0], &actions, nullptr, pointers.data(), env.envp());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return ErrnoError(rc, "start " + argv[0]);
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
