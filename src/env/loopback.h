#pragma once

namespace standby {

// A free TCP port on 127.0.0.1 (bound to port 0, read back, released). Another process may
// take it before the caller binds it; callers that start servers check they came up.
int FreeLoopbackPort();
// Waits (bounded) until 127.0.0.1:port accepts connections.
bool WaitForPort(int port, int timeout_ms);

}  // namespace standby
