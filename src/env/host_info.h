#pragma once

#include <string>

namespace standby {

// This machine's host name, or "unknown-host" when the system does not say.
std::string LocalHostname();

}  // namespace standby
