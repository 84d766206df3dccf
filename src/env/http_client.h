#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace standby {

struct HttpRequest {
  std::string method = "GET";
  bool tls = true;
  std::string host;  // name or address; also the TLS server name and Host header
  uint16_t port = 443;
  std::string target = "/";  // path and query, already percent-encoded
  std::vector<std::pair<std::string, std::string>> headers;  // Host and Content-Length are added
  std::string_view body;
  std::chrono::milliseconds timeout{30000};  // for each of connect, send, receive
  // A longer response body is a transport error (a hostile or broken server cannot make us
  // buffer without bound).
  uint64_t max_body = 64ULL << 20;
};

// The end of the message of an error whose connection was refused (nothing listens there).
inline constexpr std::string_view kConnectionRefused = "connection refused";

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // 1 when a kept-alive connection failed and the request was sent again on a fresh one.
  int transport_retries = 0;

  // Case-insensitive header lookup.
  std::optional<std::string> Header(std::string_view name) const;
};

// The HTTP seam: one request at a time per call, any number of calls at once. Connections
// are kept alive and reused. Transport failures (refused, reset, timed out, TLS failure) are
// errors — kUnavailable or kDeadlineExceeded, retryable; any HTTP status is a response.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

struct HttpClientOptions {
  // PEM file of CAs to trust instead of the system store (tests with a private CA).
  std::optional<std::string> ca_file;
  size_t max_idle_per_host = 32;
  // Addresses to connect to for a host name, instead of asking the system resolver (as
  // curl's --resolve). TLS still verifies the certificate against the name.
  std::map<std::string, std::vector<std::string>> resolved;
  // When false, a name neither numeric nor in `resolved` is an error instead of a
  // getaddrinfo call: a statically linked agent must not load a foreign glibc's NSS modules.
  bool use_system_resolver = true;
};

// The addresses `host` resolves to here, for HttpClientOptions::resolved on another host.
Result<std::vector<std::string>> ResolveHost(const std::string& host);

// The real client: Boost.Beast over Asio, TLS through OpenSSL with certificate and host
// name verification. Statically linkable (no libcurl).
std::unique_ptr<HttpClient> MakeHttpClient(const HttpClientOptions& options = {});

}  // namespace standby
