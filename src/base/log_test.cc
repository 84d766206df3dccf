#include "base/log.h"

#include <gtest/gtest.h>

namespace standby {
namespace {

TEST(LogTest, RedactsRegisteredSecretsWholly) {
  RegisterSecret("abcd1234");
  RegisterSecret("abcd1234EXTRA");  // contains the other: must vanish whole
  EXPECT_EQ(Redact("key=abcd1234EXTRA and abcd1234."), "key=*** and ***.");
  RegisterSecret("ab");  // too short to redact safely
  EXPECT_EQ(Redact("about"), "about");
}

TEST(LogTest, ParsesLevels) {
  LogLevel level;
  EXPECT_TRUE(ParseLogLevel("warn", &level));
  EXPECT_EQ(level, LogLevel::kWarning);
  EXPECT_FALSE(ParseLogLevel("loud", &level));
}

}  // namespace
}  // namespace standby
