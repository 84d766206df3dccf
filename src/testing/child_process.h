#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.h"

namespace standby {

// Starts `args` (args[0] looked up in PATH) with stdout and stderr appended to `log_path`
// (or inherited when empty). For test fixtures that run real servers.
Result<pid_t> SpawnChild(const std::vector<std::string>& args, const std::string& log_path = "");

// TERM, wait up to 2 s, then KILL; always reaps. No-op for pid <= 0.
void StopChild(pid_t pid);

}  // namespace standby
