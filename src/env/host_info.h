#pragma once

#include <string>

#include "base/result.h"

namespace standby {

// This machine's host name, or "unknown-host" when the system does not say.
std::string LocalHostname();

// The running executable's absolute path (/proc/self/exe).
Result<std::string> SelfPath();

}  // namespace standby
