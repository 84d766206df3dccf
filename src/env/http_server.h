#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace standby {

// One request as the server read it. Header names are lower-cased; the body is bounded by
// HttpServerOptions::max_body_bytes.
struct HttpServerRequest {
  std::string method;
  std::string target;  // path and query, as sent
  std::map<std::string, std::string> headers;
  std::string body;
  std::string peer;  // the client's address (no port)
};

// A response sent piece by piece (server-sent events), on the connection's own thread.
class HttpStream {
 public:
  virtual ~HttpStream() = default;
  // Sends `data` at once; false when the client is gone or too slow to take it (the
  // server's idle_timeout), or the server stops.
  virtual bool Write(std::string_view data) = 0;
  // Waits up to `d`; false as soon as the client is known to be gone or the server stops.
  virtual bool Wait(std::chrono::milliseconds d) = 0;
};

struct HttpServerResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Instead of `body`: the headers go out with chunked transfer encoding, then `stream`
  // writes until it returns, and the connection is closed.
  std::function<void(HttpStream&)> stream;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // an address to bind, never a name to resolve
  uint16_t port = 0;               // 0: any free port (HttpServer::port() says which)
  // Connections served at once, in all and from one address. At either cap a new connection
  // takes the place of the one that has waited longest for a request (a new or kept
  // connection that is not being served holds no capacity); only when every connection has a
  // request being served is the new one answered 503 and closed.
  size_t max_connections = 64;
  size_t max_connections_per_address = 32;
  // A request's header; the header, chunk framing, body and trailers together are bounded by
  // 2 * max_header_bytes + max_body_bytes.
  size_t max_header_bytes = 8192;
  size_t max_body_bytes = 64 * 1024;
  // A new connection's first request (after the TLS handshake, within the same time) must
  // arrive whole within this.
  std::chrono::milliseconds first_request_timeout{5000};
  // A connection that sends nothing for this long (between or within requests) is closed.
  std::chrono::milliseconds idle_timeout{30000};
  // HTTPS when both are set: a PEM certificate chain and its PEM private key (TLS 1.2+).
  std::string tls_cert_file;
  std::string tls_key_file;
};

// A small HTTP/1.1 server on Boost.Beast (the same stack as the client): a thread accepts,
// each connection is served on its own thread with keep-alive, and every read is bounded in
// size and time. The handler runs on connection threads, several at once: it must be
// thread-safe and must not block for long. Oversized or malformed requests get 4xx and the
// connection is closed.
class HttpServer {
 public:
  using Handler = std::function<HttpServerResponse(const HttpServerRequest&)>;

  // Binds and listens, then serves in the background. kInvalidArgument for an address that
  // is not an IP literal, kUnavailable when the port cannot be bound ("address in use").
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   Handler handler);
  // Stops accepting, closes every connection and waits for their threads.
  virtual ~HttpServer() = default;
  virtual uint16_t port() const = 0;
};

}  // namespace standby
