#include "api/api_server.h"

#include <sys/stat.h>

#include <algorithm>

#include "api/api_token.h"
#include "base/json_fields.h"
#include "base/log.h"
#include "base/strings.h"
#include "env/loopback.h"

namespace standby {
namespace {

constexpr int kMaxAuthFailures = 10;
constexpr auto kAuthWindow = std::chrono::minutes(1);

// "ADDR:PORT" or "[V6]:PORT" → address and port.
Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return InvalidArgumentError("--listen wants ADDR:PORT (e.g. 127.0.0.1:7788), not \"" + listen +
                                "\"");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto port = ParseUint(listen.substr(colon + 1));
  if (!port || *port > 65535) {
    return InvalidArgumentError("--listen: \"" + listen.substr(colon + 1) + "\" is not a port");
  }
  return std::make_pair(host, static_cast<uint16_t>(*port));
}

// Headers every answer carries: nothing cached, nothing sniffed, no referrer.
void Harden(HttpServerResponse* r) {
  r->headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (std::none_of(r->headers.begin(), r->headers.end(),
                   [](const auto& h) { return h.first == "Cache-Control"; })) {
    r->headers.emplace_back("Cache-Control", "no-store");
  }
  r->headers.emplace_back("Referrer-Policy", "no-referrer");
}

// Splits "/path?a=1&b=2" (values are ids and numbers: no percent-decoding needed beyond
// refusing what would need it).
std::pair<std::string, std::map<std::string, std::string>> SplitTarget(const std::string& t) {
  const size_t q = t.find('?');
  std::map<std::string, std::string> query;
  if (q != std::string::npos) {
    for (const std::string& part : SplitString(t.substr(q + 1), '&')) {
      const size_t eq = part.find('=');
      if (eq == std::string::npos) {
        query[part] = "";
      } else {
        query[part.substr(0, eq)] = part.substr(eq + 1);
      }
    }
  }
  return {t.substr(0, q), query};
}

}  // namespace

HttpServerResponse Problem(int status, const std::string& title, const std::string& detail) {
  nlohmann::json body = {
      {"type", "about:blank"}, {"title", title}, {"status", status}, {"detail", detail}};
  return {status, {{"Content-Type", "application/problem+json"}}, DumpJson(body) + "\n"};
}

Result<std::unique_ptr<ApiServer>> ApiServer::Start(ControllerContext* ctx,
                                                    const ApiOptions& options) {
  ASSIGN_OR_RETURN(auto address, ParseListen(options.listen));
  const auto& [host, port] = address;
  const bool loopback = IsLoopbackAddress(host);
  const bool tls = !options.tls_cert.empty() || !options.tls_key.empty();
  if (tls && (options.tls_cert.empty() || options.tls_key.empty())) {
    return InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  struct stat key {};
  if (tls && ::stat(options.tls_key.c_str(), &key) == 0 && (key.st_mode & 077) != 0) {
    return PermissionDeniedError("the TLS key " + options.tls_key +
                                 " is readable by others: chmod 600 it (and use a new key)");
  }
  if (!loopback && !tls && !options.insecure_listen) {
    return InvalidArgumentError(
        "--listen " + options.listen +
        " is not a loopback address: the API token would cross the network in plain text; "
        "give --tls-cert and --tls-key, put a TLS proxy in front and listen on 127.0.0.1, or "
        "add --insecure-listen");
  }
  ASSIGN_OR_RETURN(std::string token, LoadOrCreateApiToken(options.state_dir));
  std::unique_ptr<ApiServer> api(new ApiServer(ctx, options, std::move(token)));
  api->loopback_ = loopback;
  HttpServerOptions http;
  http.host = host;
  http.port = port;
  http.tls_cert_file = options.tls_cert;
  http.tls_key_file = options.tls_key;
  ApiServer* raw = api.get();
  ASSIGN_OR_RETURN(api->http_, HttpServer::Start(http, [raw](const HttpServerRequest& r) {
                     return raw->Handle(r);
                   }));
  const bool v6 = host.find(':') != std::string::npos;
  api->port_ = api->http_->port();
  api->bound_host_ = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(api->port_);
  api->url_ = (tls ? "https://" : "http://") + api->bound_host_;
  api->ready_ = true;
  return api;
}

bool ApiServer::HostAllowed(const HttpServerRequest& request) const {
  // DNS rebinding attacks services on this machine's loopback. Bound elsewhere (with
  // --insecure-listen, often behind a proxy that forwards its public Host), the name
  // clients use is not ours to know: the token alone guards it.
  if (!loopback_) return true;
  auto it = request.headers.find("host");
  if (it == request.headers.end()) return false;
  const std::string& host = it->second;
  if (host == bound_host_) return true;
  // Any loopback spelling of this port: a page from another origin that a DNS rebinding
  // pointed at 127.0.0.1 still names its own host here.
  const std::string port = ":" + std::to_string(port_);
  return host == "localhost" + port || host == "127.0.0.1" + port || host == "[::1]" + port;
}

void ApiServer::RefreshTokenLocked() {
  // The file is the truth: `standby token rotate` revokes the old token at once.
  struct stat st {};
  const std::string path = ApiTokenPath(options_.state_dir);
  if (::stat(path.c_str(), &st) == 0) {
    const int64_t mtime = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
    if (mtime != token_mtime_ns_) {
      if (auto fresh = LoadOrCreateApiToken(options_.state_dir)) {
        token_ = *fresh;
        token_mtime_ns_ = mtime;
      }
    }
  }
}

bool ApiServer::TokenStillValid(const std::string& given) {
  std::lock_guard<std::mutex> lock(mu_);
  RefreshTokenLocked();
  return !given.empty() && ConstantTimeEquals(given, token_);
}

std::string ApiServer::BearerOf(const HttpServerRequest& request) {
  auto it = request.headers.find("authorization");
  return it != request.headers.end() && it->second.rfind("Bearer ", 0) == 0 ? it->second.substr(7)
                                                                            : "";
}

std::optional<HttpServerResponse> ApiServer::Authenticate(const HttpServerRequest& request) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  const std::string given = BearerOf(request);
  RefreshTokenLocked();
  // The right token always passes, even from an address that is blocked: behind a reverse
  // proxy every client shares one address, and a guesser must not lock out the operator
  // (with 256 random bits, guessing is hopeless anyway; the limit only slows floods).
  if (!given.empty() && ConstantTimeEquals(given, token_)) {
    failures_.erase(request.peer);
    return std::nullopt;
  }
  Failures& f = failures_[request.peer];
  if (now < f.blocked_until) {
    HttpServerResponse r = Problem(429, "Too Many Requests",
                                   "too many failed authentications from this address; wait");
    r.headers.emplace_back("Retry-After", "60");
    return r;
  }
  ++auth_failures_;
  if (given.empty()) {
    // Not a guess: a browser page can make these (it cannot add the header), and counting
    // them would let any page lock the operator's own tools out.
    if (f.count == 0) failures_.erase(request.peer);
    HttpServerResponse r = Problem(401, "Unauthorized", "send Authorization: Bearer <token>");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"standby\"");
    return r;
  }
  if (f.count == 0 || now - f.first > kAuthWindow) {
    f.count = 0;
    f.first = now;
  }
  if (failures_.size() > 1024) {
    // Bounded: forget the addresses neither blocked nor failing within the window.
    std::erase_if(failures_, [&](const auto& entry) {
      return &entry.second != &f && now >= entry.second.blocked_until &&
             now - entry.second.first > kAuthWindow;
    });
  }
  if (++f.count >= kMaxAuthFailures) f.blocked_until = now + kAuthWindow;
  // Never the token, given or expected, in the log; and at most a line every 10 s, however
  // many addresses guess (each 127/8 address is another peer).
  ++refusals_unlogged_;
  if (now - last_refusal_logged_ >= std::chrono::seconds(10)) {
    spdlog::warn("API: refused {} request(s) with a wrong token (the last from {})",
                 refusals_unlogged_, EscapeControl(request.peer));
    refusals_unlogged_ = 0;
    last_refusal_logged_ = now;
  }
  HttpServerResponse r = Problem(401, "Unauthorized", "send Authorization: Bearer <token>");
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"standby\"");
  return r;
}

HttpServerResponse ApiServer::Handle(const HttpServerRequest& request) {
  auto [path, query] = SplitTarget(request.target);
  HttpServerResponse response;
  if (!ready_) {
    response = Problem(503, "Service Unavailable", "starting");
  } else if (!HostAllowed(request)) {
    response = Problem(403, "Forbidden", "this API answers only to its own address");
  } else if (path == "/healthz") {
    response = request.method == "GET" || request.method == "HEAD"
                   ? HttpServerResponse{200,
                                        {{"Content-Type", "application/json"}},
                                        "{\"status\":\"ok\"}\n"}
                   : Problem(405, "Method Not Allowed", "this resource takes GET");
  } else if (auto page = Dashboard(request, path)) {
    response = std::move(*page);
  } else if (auto refused = Authenticate(request)) {
    response = std::move(*refused);
  } else {
    try {
      // HEAD is GET without the body (the server drops it, keeping its length).
      if (request.method == "HEAD") {
        HttpServerRequest get = request;
        get.method = "GET";
        response = Route(get, path, query);
      } else {
        response = Route(request, path, query);
      }
    } catch (const std::exception& e) {
      response = Problem(500, "Internal Server Error", e.what());
    }
  }
  Harden(&response);
  return response;
}

}  // namespace standby
