#pragma once

#include <spawn.h>

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"

namespace standby {

// The environment a child of the controller starts with: only what programs need to run
// (PATH, HOME, USER, LOGNAME, SHELL, LANG, LC_ALL, TZ, TMPDIR, TERM) and sanitizer settings,
// taken from ours. Never the controller's secrets (AWS_*, B2_*, VAST_API_KEY, database
// URLs), whatever it was started with: a child's /proc/PID/environ is readable by its user.
class ChildEnvironment {
 public:
  ChildEnvironment();
  // NULL-terminated, for posix_spawn/execve; valid while this object lives.
  char* const* envp() { return pointers_.data(); }

 private:
  std::vector<std::string> entries_;
  std::vector<char*> pointers_;
};

// posix_spawn attributes that start a child with no signal blocked and SIGINT, SIGTERM,
// SIGHUP and SIGPIPE at their default actions, whatever this process blocks or ignores (a
// command that catches Ctrl-C blocks those in every thread, and spawn inherits the mask).
class SpawnAttributes {
 public:
  explicit SpawnAttributes(short extra_flags = 0);
  ~SpawnAttributes();
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
  const posix_spawnattr_t* get() const { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

// The same for a forked child before it execs: unblocks every signal and restores the
// default actions SpawnAttributes restores. Async-signal-safe.
void ResetSignalsInChild();

// Runs `argv` (argv[0] looked up in PATH) without a shell, stdin from /dev/null, in the
// minimal environment, and waits for it. Its exit status, or an error when it could not
// start or was killed by a signal.
Result<int> RunProgram(const std::vector<std::string>& argv);

// Runs `argv` as RunProgram does and returns what it wrote to stdout (at most `max_bytes`;
// stderr is dropped). Killed and an error when it runs longer than `timeout` — a wedged
// nvidia-smi must not hang a health check — or exits non-zero.
Result<std::string> CaptureProgramOutput(const std::vector<std::string>& argv,
                                         std::chrono::milliseconds timeout,
                                         size_t max_bytes = 1 << 20);

}  // namespace standby
