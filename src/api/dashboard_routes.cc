// The dashboard's files (api_server.h): served without the token (they hold no data; the
// page asks for the token and sends it with every API call), under a strict
// Content-Security-Policy, revalidated by ETag.
#include "api/api_server.h"
#include "api/dashboard_assets.h"

namespace standby {

constexpr char kContentSecurityPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

std::optional<HttpServerResponse> ApiServer::Dashboard(const HttpServerRequest& request,
                                                       const std::string& path) {
  const std::string file = path == "/" ? "/index.html" : path;
  const DashboardAsset* asset = nullptr;
  for (const DashboardAsset& a : DashboardAssets()) {
    if (a.path == file) asset = &a;
  }
  if (!asset) {
    // Outside the API nothing needs the token, and nothing else is there.
    if (path == "/metrics" || path == "/readyz" || path.rfind("/api/", 0) == 0) {
      return std::nullopt;
    }
    return Problem(404, "Not Found", "no resource at " + path);
  }
  if (request.method != "GET" && request.method != "HEAD") {
    HttpServerResponse r = Problem(405, "Method Not Allowed", "this resource takes GET");
    r.headers.emplace_back("Allow", "GET");
    return r;
  }
  HttpServerResponse r{200, {{"Content-Type", asset->content_type}}, asset->body};
  auto since = request.headers.find("if-none-match");
  if (since != request.headers.end() && since->second == asset->etag) {
    r.status = 304;
    r.body.clear();
  }
  r.headers.emplace_back("ETag", asset->etag);
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  r.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
  return r;
}

}  // namespace standby
