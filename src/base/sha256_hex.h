#pragma once

#include <string>
#include <string_view>

namespace standby {

// Hex SHA-256 of `data` (OpenSSL). Thread-safe.
std::string Sha256Hex(std::string_view data);

}  // namespace standby
