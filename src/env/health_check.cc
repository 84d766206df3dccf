#include "env/health_check.h"

#include "base/strings.h"

namespace standby {

Result<HealthUrl> ParseHealthUrl(const std::string& url) {
  if (!url.starts_with("http://")) {
    return InvalidArgumentError("health URL must be http://host:port/path, got " + url);
  }
  std::string rest = url.substr(7);
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  HealthUrl out;
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = hostport.rfind(':');
  out.host = hostport.substr(0, colon);
  if (colon != std::string::npos) {
    auto port = ParseUint(hostport.substr(colon + 1));
    if (!port || *port == 0 || *port > 65535) {
      return InvalidArgumentError("health URL has no valid port: " + url);
    }
    out.port = static_cast<uint16_t>(*port);
  }
  if (out.host.empty()) return InvalidArgumentError("health URL has no host: " + url);
  return out;
}

bool HealthAnswerOk(const HttpResponse& response, const HealthExpectation& expected) {
  return response.status == expected.status &&
         (expected.body.empty() || response.body.find(expected.body) != std::string::npos);
}

}  // namespace standby
