#pragma once

#include <string>

namespace standby {

// A free TCP port on 127.0.0.1 (bound to port 0, read back, released). Another process may
// take it before the caller binds it; callers that start servers check they came up.
int FreeLoopbackPort();
// Whether `host` (an IP literal or "localhost") names this machine or its link: loopback,
// link-local, unspecified or multicast. A provider that reports such an SSH address for a
// rented host points us at ourselves or our neighbours.
bool IsInternalAddress(const std::string& host);
// Whether `host` (an IP literal in any spelling, "[v6]", or "localhost") is this machine.
bool IsLoopbackAddress(const std::string& host);
// Waits (bounded) until 127.0.0.1:port accepts connections.
bool WaitForPort(int port, int timeout_ms);

}  // namespace standby
