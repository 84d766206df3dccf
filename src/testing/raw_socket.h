#pragma once

#include <cstdint>
#include <string>

namespace standby {

// Raw TCP for tests that play a misbehaving client (an idle socket, a request that never
// ends). Every read and write gives up after 5 s, so a test fails instead of hanging.

// A connection to 127.0.0.1:port from `from` (another 127/8 address is another client) that
// has sent nothing yet (an expectation fails when it cannot connect).
int RawLoopbackConnection(uint16_t port, const std::string& from = "127.0.0.1");
// Everything the peer sends on `fd` until it closes (or 5 s pass without a byte).
std::string ReadUntilClosed(int fd);
// Sends `text` on `fd` for as long as the peer reads it; stops when it closes.
void SendWhileRead(int fd, const std::string& text);

}  // namespace standby
