#pragma once

#include <map>
#include <string>
#include <string_view>
#include <tuple>

namespace standby {

// Requests this process sent to providers' HTTP APIs, for GET /metrics: process-wide, as
// the rate limiters they go through are (every provider object of one account shares one).
// Thread-safe.
struct ProviderRequestKey {
  std::string provider;    // "vast"
  std::string operation;   // the HTTP method, lower-case
  std::string code_class;  // 2xx, 3xx, 4xx, 429, 5xx, or "error" (no answer)
  auto operator<=>(const ProviderRequestKey&) const = default;
};

// Counts one request; `status` 0 when no answer came.
void CountProviderRequest(std::string_view provider, std::string_view method, int status);
// Every count so far.
std::map<ProviderRequestKey, double> ProviderRequestCounts();

}  // namespace standby
