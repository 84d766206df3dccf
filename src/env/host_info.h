#pragma once

#include <string>

#include "base/result.h"

namespace standby {

// This machine's host name, or "unknown-host" when the system does not say.
std::string LocalHostname();

// What tells this boot of this machine's process space from any other: the kernel's boot id
// and our pid namespace ("<boot id>/pid:[4026531836]"), or "" when /proc does not say. Two
// processes with the same pid are the same process only when this is equal too (containers
// share host names; pids restart at every boot).
std::string ProcessSpaceId();

// The running executable's absolute path (/proc/self/exe).
Result<std::string> SelfPath();

}  // namespace standby
