#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace standby {

// Nanoseconds since the Unix epoch, UTC.
using UnixNanos = int64_t;

// "2026-11-29T01:33:14.123Z" (millisecond precision, always UTC).
std::string FormatRfc3339(UnixNanos t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction]Z".
std::optional<UnixNanos> ParseRfc3339(std::string_view text);
// RFC 1123 dates as in HTTP headers: "Sun, 29 Nov 2026 02:10:00 GMT".
std::optional<UnixNanos> ParseHttpDate(std::string_view text);
// "20261129T013314Z", used inside identifiers; sorts like the time it names.
std::string FormatCompactUtc(UnixNanos t);

}  // namespace standby
