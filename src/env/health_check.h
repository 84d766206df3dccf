#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "env/http_client.h"

namespace standby {

// A workload's health URL, http://HOST[:PORT]/PATH (port 80 when absent), split for a
// request. kInvalidArgument for anything else.
struct HealthUrl {
  std::string host;
  uint16_t port = 80;
  std::string target = "/";  // path and query
};
Result<HealthUrl> ParseHealthUrl(const std::string& url);

// What a health check expects of the answer: this status, and — when `body` is not empty —
// a body containing it. The agent on the host and the controller's direct probe judge the
// same way.
struct HealthExpectation {
  int status = 200;
  std::string body;
};
bool HealthAnswerOk(const HttpResponse& response, const HealthExpectation& expected);

}  // namespace standby
