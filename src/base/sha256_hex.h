#pragma once

#include <string>
#include <string_view>

namespace standby {

// Hex SHA-256 of `data` (OpenSSL). Thread-safe.
std::string Sha256Hex(std::string_view data);
// HMAC-SHA256 of `data` under `key`: the 32 raw bytes (OpenSSL). Thread-safe.
std::string HmacSha256(std::string_view key, std::string_view data);

}  // namespace standby
