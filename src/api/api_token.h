#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace standby {

// The API's bearer token (docs/manual.md, "The HTTP API"): 32 random bytes as 64 hex
// characters in <state_dir>/api-token, mode 0600, made on first use. A token file that group
// or others may read is refused (kPermissionDenied, with the chmod that fixes it): anyone
// who reads it can fail instances over.
std::string ApiTokenPath(const std::string& state_dir);
Result<std::string> LoadOrCreateApiToken(const std::string& state_dir);
// A new token replaces the old one at once (the old one stops working with the next
// request to a serve that re-reads it: serve reads the file on every failed comparison).
Result<std::string> RotateApiToken(const std::string& state_dir);
// Equal without a timing side channel (the comparison takes as long whatever matches).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace standby
