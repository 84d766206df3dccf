#pragma once

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

// Runs `argv` (argv[0] looked up in PATH) without a shell, stdin from /dev/null, in the
// minimal environment, and waits for it. Its exit status, or an error when it could not
// start or was killed by a signal.
Result<int> RunProgram(const std::vector<std::string>& argv);

}  // namespace standby
