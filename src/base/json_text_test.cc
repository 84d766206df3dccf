#include "base/json_text.h"

#include <gtest/gtest.h>

namespace standby {
namespace {

TEST(JsonTextTest, RecognisesUtf8) {
  EXPECT_TRUE(IsValidUtf8("plain/ascii.txt"));
  EXPECT_TRUE(IsValidUtf8("modèle/权重/🚀"));
  EXPECT_FALSE(IsValidUtf8("latin1-\xe9t\xe9"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("cut\xe2\x82"));   // truncated
}

TEST(JsonTextTest, EscapesWhatJsonRequires) {
  std::string out;
  AppendJsonString(&out, "a\"b\\c\nd\x01");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\u0001\"");
}

}  // namespace
}  // namespace standby
