#include "base/strings.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/json_text.h"

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

// What a host writes to stderr reaches JSON output (status --json, the event stream): bytes
// that are no UTF-8 (a lone continuation byte, a truncated or overlong sequence, a surrogate)
// are escaped, so the result always is UTF-8 and nlohmann::json::dump never throws on it.
TEST(StringsTest, EscapeControlAlwaysReturnsValidUtf8) {
  EXPECT_EQ(EscapeControl("a\xff\xfe"
                          "b"),
            "a\\xff\\xfeb");
  EXPECT_EQ(EscapeControl("\xe2\x9c"), "\\xe2\\x9c");           // truncated at the end
  EXPECT_EQ(EscapeControl("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(EscapeControl("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a UTF-16 surrogate
  EXPECT_EQ(EscapeControl("\x80ok"), "\\x80ok");
  uint64_t state = 0x9e3779b97f4a7c15;
  for (int round = 0; round < 200; ++round) {
    std::string noise(64, '\0');
    for (char& c : noise) {
      state = state * 6364136223846793005 + 1442695040888963407;
      c = static_cast<char>(state >> 56);
    }
    const std::string escaped = EscapeControl(noise);
    EXPECT_TRUE(IsValidUtf8(escaped)) << round;
    EXPECT_NO_THROW(nlohmann::json(escaped).dump()) << round;
  }
}

}  // namespace
}  // namespace standby
