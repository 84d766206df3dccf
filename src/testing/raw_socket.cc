#include "testing/raw_socket.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>

namespace standby {

int RawLoopbackConnection(uint16_t port, const std::string& from) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval five{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof(five));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &five, sizeof(five));
  sockaddr_in source{};
  source.sin_family = AF_INET;
  EXPECT_EQ(::inet_pton(AF_INET, from.c_str(), &source.sin_addr), 1) << from;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof(source)), 0) << from;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  return fd;
}

std::string ReadUntilClosed(int fd) {
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) {
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

void SendWhileRead(int fd, const std::string& text) {
  for (size_t sent = 0; sent < text.size();) {
    ssize_t n =
        ::send(fd, text.data() + sent, std::min<size_t>(text.size() - sent, 65536), MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

}  // namespace standby
