#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "api/live_metrics.h"
#include "env/http_server.h"
#include "failover/controller_context.h"

namespace standby {

struct ApiOptions {
  std::string listen = "127.0.0.1:7788";  // ADDR:PORT, [V6]:PORT; port 0 = any free one
  // HTTPS with this PEM certificate chain and key (both or neither).
  std::string tls_cert;
  std::string tls_key;
  // A non-loopback address without TLS serves the token in plain text over the network:
  // only with this, said out loud.
  bool insecure_listen = false;
  std::string state_dir;              // where the token file lives (api/api_token.h)
  const LiveMetrics* live = nullptr;  // counters /metrics shows, when given
};

// The HTTP API of `standby serve` (docs/manual.md, "The HTTP API"): JSON resources under
// /api/v1, errors as RFC 9457 problem+json, Prometheus text at /metrics. Every route but
// /healthz needs `Authorization: Bearer <token>` (compared in constant time; 401 with
// WWW-Authenticate; a client with 10 failures within a minute gets 429 for a minute).
// Requests whose Host header names neither this machine's loopback nor the bound address
// are refused (DNS rebinding). No CORS header is ever sent. Handlers only read the state
// store and leave requests for the controller; long actions answer 202 with a Location.
// An RFC 9457 problem+json answer: {"type": "about:blank", "title", "status", "detail"}.
HttpServerResponse Problem(int status, const std::string& title, const std::string& detail);

class ApiServer {
 public:
  // Reads (or makes) the token and listens. kInvalidArgument for a bad or non-loopback
  // address without insecure_listen; kPermissionDenied for a token file others can read.
  static Result<std::unique_ptr<ApiServer>> Start(ControllerContext* ctx,
                                                  const ApiOptions& options);
  // "http://127.0.0.1:PORT" (https:// with TLS), the address clients use.
  const std::string& url() const { return url_; }
  // The token clients must send (as read at start or since its file changed).
  std::string token() {
    std::lock_guard<std::mutex> lock(mu_);
    return token_;
  }
  // One request, as the server's threads call it (tests call it directly too).
  HttpServerResponse Handle(const HttpServerRequest& request);

 private:
  ApiServer(ControllerContext* ctx, ApiOptions options, std::string token)
      : ctx_(ctx), options_(std::move(options)), token_(std::move(token)) {}
  bool HostAllowed(const HttpServerRequest& request) const;
  static std::string BearerOf(const HttpServerRequest& request);
  void RefreshTokenLocked();  // re-reads the token file when it changed (mu_ held)
  // Whether `given` is still the token (an event stream ends when it was rotated).
  bool TokenStillValid(const std::string& given);
  // Empty when the request carries the token; else the response refusing it.
  std::optional<HttpServerResponse> Authenticate(const HttpServerRequest& request);
  HttpServerResponse Route(const HttpServerRequest& request, const std::string& path,
                           const std::map<std::string, std::string>& query);
  // The dashboard's file at `path`, or nullopt when there is none.
  std::optional<HttpServerResponse> Dashboard(const HttpServerRequest& request,
                                              const std::string& path);
  HttpServerResponse EventStream(const HttpServerRequest& request,
                                 const std::map<std::string, std::string>& query);

  ControllerContext* ctx_;
  const ApiOptions options_;
  // Set once the server listens; requests before that (its threads start inside
  // HttpServer::Start) are answered 503.
  std::atomic<bool> ready_{false};
  std::string url_;
  std::string bound_host_;  // the address as a Host header names it
  uint16_t port_ = 0;
  bool loopback_ = true;
  std::mutex mu_;  // token_, token_mtime_ and failures_
  std::string token_;
  int64_t token_mtime_ns_ = 0;  // the token file's, when token_ was read from it
  struct Failures {
    int count = 0;
    std::chrono::steady_clock::time_point first, blocked_until;
  };
  std::map<std::string, Failures> failures_;  // by client address
  int64_t refusals_unlogged_ = 0;             // wrong tokens since the last log line
  std::chrono::steady_clock::time_point last_refusal_logged_{};
  std::atomic<int> sse_clients_{0};  // event streams open
  std::atomic<int64_t> auth_failures_{0};
  std::unique_ptr<HttpServer> http_;
};

}  // namespace standby
