#include "base/time.h"

#include <cstdio>
#include <ctime>

namespace standby {
namespace {

std::tm ToUtc(UnixNanos t) {
  time_t seconds = static_cast<time_t>(t / 1'000'000'000);
  if (t < 0 && t % 1'000'000'000 != 0) --seconds;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return tm;
}

}  // namespace

std::string FormatRfc3339(UnixNanos t) {
  std::tm tm = ToUtc(t);
  int64_t millis = ((t % 1'000'000'000) + 1'000'000'000) % 1'000'000'000 / 1'000'000;
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return buf;
}

std::optional<UnixNanos> ParseRfc3339(std::string_view text) {
  std::tm tm{};
  int consumed = 0;
  std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t nanos = 0;
  size_t pos = 19;
  if (pos < copy.size() && copy[pos] == '.') {
    ++pos;
    int64_t scale = 100'000'000;
    while (pos < copy.size() && copy[pos] >= '0' && copy[pos] <= '9') {
      nanos += (copy[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
  }
  if (pos + 1 != copy.size() || copy[pos] != 'Z') return std::nullopt;
  time_t seconds = timegm(&tm);
  return static_cast<UnixNanos>(seconds) * 1'000'000'000 + nanos;
}

std::optional<UnixNanos> ParseHttpDate(std::string_view text) {
  std::tm tm{};
  std::string copy(text);
  if (strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) == nullptr) return std::nullopt;
  return static_cast<UnixNanos>(timegm(&tm)) * 1'000'000'000;
}

std::string FormatCompactUtc(UnixNanos t) {
  std::tm tm = ToUtc(t);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace standby
