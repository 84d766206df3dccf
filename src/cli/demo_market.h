#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"

namespace standby {

// The demo on the local simulated market, with hosts and state under `base`, deploying
// `agent`: returns the summary JSON (steps, recovery_ms, validation). Every rented host is
// destroyed at the end.
Result<nlohmann::json> RunMarketDemo(const std::string& base, const std::string& agent,
                                     uint64_t bytes, bool interactive);

}  // namespace standby
