#pragma once

#include <string>
#include <string_view>

namespace standby {

// The length of the well-formed UTF-8 sequence that starts at text[at], 0 when the bytes
// there are not one. REQUIRES: at < text.size().
size_t Utf8SequenceLength(std::string_view text, size_t at);

// True when `text` is well-formed UTF-8 (JSON strings must be; Linux file names need not be).
bool IsValidUtf8(std::string_view text);

// Appends `text` as a JSON string literal (quotes included). REQUIRES: IsValidUtf8(text).
void AppendJsonString(std::string* out, std::string_view text);

}  // namespace standby
