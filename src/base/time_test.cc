#include "base/time.h"

#include <gtest/gtest.h>

namespace standby {
namespace {

TEST(TimeTest, Rfc3339RoundTripsAtMillisecondPrecision) {
  UnixNanos t = 1'795'000'000'123'000'000;
  std::string text = FormatRfc3339(t);
  EXPECT_EQ(text, "2026-11-18T11:06:40.123Z");
  EXPECT_EQ(ParseRfc3339(text), t);
}

TEST(TimeTest, ParseRejectsMalformedTimes) {
  EXPECT_FALSE(ParseRfc3339("2026-11-18 08:26:40Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2026-11-18T11:06:40").has_value());
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:01Z"), 1'000'000'000);
}

TEST(TimeTest, CompactFormSortsLikeTime) {
  EXPECT_EQ(FormatCompactUtc(0), "19700101T000000Z");
  EXPECT_LT(FormatCompactUtc(1'000'000'000'000'000'000),
            FormatCompactUtc(1'000'000'001'000'000'000));
}

}  // namespace
}  // namespace standby
