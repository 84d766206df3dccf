#include "base/strings.h"

#include <gtest/gtest.h>

namespace standby {
namespace {

TEST(StringsTest, HexRoundTrips) {
  std::string bytes("\x00\x01\xab\xff", 4);
  EXPECT_EQ(HexEncode(bytes), "0001abff");
  EXPECT_EQ(HexDecode("0001ABff"), bytes);
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_FALSE(HexDecode("zz").has_value());
}

TEST(StringsTest, HumanBytesMatchesTheSeedsProgressFormat) {
  EXPECT_EQ(HumanBytes(512), "512B");
  EXPECT_EQ(HumanBytes(450'000'000), "450MB");
  EXPECT_EQ(HumanBytes(1'000'000'000), "1GB");
  EXPECT_EQ(HumanBytes(1'500'000'000), "1.5GB");
  EXPECT_EQ(HumanRate(12'000'000), "12MB/s");
}

TEST(StringsTest, SplitAndTrim) {
  EXPECT_EQ(SplitString("a/b//c", '/'), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(TrimWhitespace("  x y \n"), "x y");
  EXPECT_EQ(TrimWhitespace(" \t "), "");
}

TEST(StringsTest, ParseUintRejectsJunk) {
  EXPECT_EQ(ParseUint("42"), 42u);
  EXPECT_FALSE(ParseUint("").has_value());
  EXPECT_FALSE(ParseUint("-1").has_value());
  EXPECT_FALSE(ParseUint("4x").has_value());
  EXPECT_FALSE(ParseUint("99999999999999999999999").has_value());
}

TEST(StringsTest, RandomHexIsFreshEachTime) {
  EXPECT_EQ(RandomHex(8).size(), 16u);
  EXPECT_NE(RandomHex(8), RandomHex(8));
}

TEST(StringsTest, EscapeControlNeutralisesTerminalSequences) {
  EXPECT_EQ(EscapeControl("ok \x1b]0;owned\x07 done\r\n"), "ok \\x1b]0;owned\\x07 done\\x0d\\x0a");
  EXPECT_EQ(EscapeControl("caf\xc3\xa9 \xe2\x9c\x93"), "caf\xc3\xa9 \xe2\x9c\x93");
  EXPECT_EQ(EscapeControl("\xc2\x9b"
                          "31m"),
            "\\xc2\\x9b31m");
  EXPECT_EQ(EscapeControl("\x7f"), "\\x7f");
}

}  // namespace
}  // namespace standby
