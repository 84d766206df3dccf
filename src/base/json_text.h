#pragma once

#include <string>
#include <string_view>

namespace standby {

// True when `text` is well-formed UTF-8 (JSON strings must be; Linux file names need not be).
bool IsValidUtf8(std::string_view text);

// Appends `text` as a JSON string literal (quotes included). REQUIRES: IsValidUtf8(text).
void AppendJsonString(std::string* out, std::string_view text);

}  // namespace standby
