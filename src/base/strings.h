#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace standby {

std::string HexEncode(std::string_view bytes);
// Returns nullopt unless `hex` is an even-length string of [0-9a-fA-F].
std::optional<std::string> HexDecode(std::string_view hex);

// Sizes as the seed prints them: "512B", "450MB", "1GB", "1.5GB" (decimal units).
std::string HumanBytes(uint64_t bytes);
// "12MB/s"
std::string HumanRate(double bytes_per_second);
// "4.1 s": a duration for log lines and messages, to a tenth of a second.
std::string HumanSeconds(double seconds);

// Text from someone we do not trust, made safe for a terminal, a log line or a JSON string:
// C0 and C1 control characters (escape sequences, carriage returns, newlines), DEL and every
// byte that is not part of well-formed UTF-8 become "\xNN"; valid UTF-8 is kept. The result
// is always valid UTF-8.
std::string EscapeControl(std::string_view text);

std::string_view TrimWhitespace(std::string_view text);
// "a, b, c" (with `separator`).
std::string JoinStrings(const std::vector<std::string>& parts, std::string_view separator);
std::vector<std::string> SplitString(std::string_view text, char separator);

// `count` random bytes from the OS CSPRNG, hex-encoded (2*count characters).
std::string RandomHex(size_t count);

// Parses a non-negative decimal integer; nullopt on anything else or overflow.
std::optional<uint64_t> ParseUint(std::string_view text);

}  // namespace standby
