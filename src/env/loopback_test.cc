#include "env/loopback.h"

#include <gtest/gtest.h>

namespace standby {
namespace {

// Addresses a marketplace must not hand us for a rented host, in every spelling a resolver
// accepts.
TEST(LoopbackTest, InternalAddressesInEverySpelling) {
  for (const char* internal : {"127.0.0.1", "127.1", "2130706433", "0x7f000001", "0.0.0.0",
                               "169.254.169.254", "224.0.0.1", "localhost", "a.localhost", "::1",
                               "[::1]", "::", "fe80::1", "::ffff:127.0.0.1", "ff02::1"}) {
    EXPECT_TRUE(IsInternalAddress(internal)) << internal;
  }
  for (const char* external :
       {"203.0.113.7", "8.8.8.8", "2001:db8::7", "ssh4.vast.ai", "10.0.0.1"}) {
    EXPECT_FALSE(IsInternalAddress(external)) << external;
  }
}

TEST(LoopbackTest, LoopbackIsThisMachineOnly) {
  for (const char* loopback : {"127.0.0.1", "127.1", "localhost", "::1", "[::1]"}) {
    EXPECT_TRUE(IsLoopbackAddress(loopback)) << loopback;
  }
  for (const char* other : {"169.254.169.254", "0.0.0.0", "fe80::1", "10.0.0.1", "example.com"}) {
    EXPECT_FALSE(IsLoopbackAddress(other)) << other;
  }
}

}  // namespace
}  // namespace standby
