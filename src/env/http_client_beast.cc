#include <strings.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <map>
#include <mutex>
#include <variant>

#include "env/http_client.h"

namespace standby {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

// One kept-alive connection with its own io_context (operations run synchronously on the
// caller's thread, with deadlines enforced by beast::tcp_stream).
struct Connection {
  asio::io_context ioc;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
};

Error TransportError(const beast::error_code& ec, const std::string& what) {
  if (ec == beast::error::timeout) return DeadlineExceededError(what + ": timed out");
  if (ec == beast::http::error::body_limit) {  // not retried: the same object is as large
    return ResourceExhaustedError(what + ": the response is larger than the request allows");
  }
  if (ec == boost::asio::error::connection_refused) {
    return UnavailableError(what + ": " + std::string(kConnectionRefused));
  }
  return UnavailableError(what + ": " + ec.message());
}

// A failed TLS handshake is not retried: the same server answers the same way. A plain-HTTP
// server answering a TLS hello is the usual cause (OpenSSL: "wrong version number").
Error HandshakeError(const beast::error_code& ec, const std::string& key, const std::string& host,
                     int port) {
  if (ec.category() != boost::asio::error::get_ssl_category()) {
    return TransportError(ec, "TLS handshake with " + key);
  }
  std::string message = "TLS handshake with " + key + " failed: " + ec.message();
  if (ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_WRONG_VERSION_NUMBER) {
    message += "; the endpoint speaks plain HTTP? use http://" + host + ":" + std::to_string(port);
  }
  return Error{ErrorCode::kUnavailable, message, /*retryable=*/false};
}

class BeastHttpClient : public HttpClient {
 public:
  explicit BeastHttpClient(const HttpClientOptions& options)
      : options_(options), tls_(ssl::context::tls_client) {
    tls_.set_verify_mode(ssl::verify_peer);
    ::SSL_CTX_set_min_proto_version(tls_.native_handle(), TLS1_2_VERSION);
    if (options.ca_file) {
      tls_.load_verify_file(*options.ca_file, tls_error_);
    } else {
      tls_.set_default_verify_paths(tls_error_);
    }
  }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    if (tls_error_) return UnavailableError("TLS setup failed: " + tls_error_.message());
    std::string key =
        (request.tls ? "https://" : "http://") + request.host + ":" + std::to_string(request.port);
    // A pooled connection may have been closed by the server; retry once on a fresh one.
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::unique_ptr<Connection> conn = attempt == 0 ? TakeIdle(key) : nullptr;
      bool reused = conn != nullptr;
      if (!conn) {
        auto fresh = Connect(request, key);
        if (!fresh) return fresh.error();
        conn = std::move(*fresh);
      }
      bool keep_alive = false;
      auto response = Exchange(conn.get(), request, key, &keep_alive);
      if (!response) {
        if (reused) continue;
        return response.error();
      }
      if (keep_alive) PutIdle(key, std::move(conn));
      response->transport_retries = attempt;
      return response;
    }
    return UnavailableError(key + ": connection closed");
  }

 private:
  Result<std::vector<tcp::endpoint>> Endpoints(const HttpRequest& request) {
    std::vector<tcp::endpoint> endpoints;
    auto add = [&](const std::string& text) {
      beast::error_code ec;
      auto address = asio::ip::make_address(text, ec);
      if (!ec) endpoints.emplace_back(address, request.port);
      return !ec;
    };
    if (add(request.host)) return endpoints;
    if (auto it = options_.resolved.find(request.host); it != options_.resolved.end()) {
      for (const std::string& text : it->second) {
        if (!add(text)) return InvalidArgumentError("bad address " + text + " for " + request.host);
      }
      if (!endpoints.empty()) return endpoints;
    }
    if (!options_.use_system_resolver) {
      return NotFoundError("no address given for " + request.host +
                           " (this process does not resolve names itself)");
    }
    ASSIGN_OR_RETURN(auto addresses, ResolveHost(request.host));
    for (const std::string& text : addresses) add(text);
    return endpoints;
  }

  Result<std::unique_ptr<Connection>> Connect(const HttpRequest& request, const std::string& key) {
    auto conn = std::make_unique<Connection>();
    // Beast sizes each socket read by the buffer's free capacity (capped at 64 KiB); an empty
    // buffer would read 512 bytes at a time, one syscall and timer re-arm each.
    conn->buffer.reserve(1 << 20);
    beast::error_code ec;
    ASSIGN_OR_RETURN(std::vector<tcp::endpoint> endpoints, Endpoints(request));
    if (request.tls) {
      conn->secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(conn->ioc, tls_);
    } else {
      conn->plain = std::make_unique<beast::tcp_stream>(conn->ioc);
    }
    beast::tcp_stream& stream = conn->lowest();
    stream.expires_after(request.timeout);
    stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    RunAll(conn.get());
    if (ec) return TransportError(ec, "connect to " + key);
    stream.socket().set_option(tcp::no_delay(true), ec);
    if (conn->secure) {
      if (!SSL_set_tlsext_host_name(conn->secure->native_handle(), request.host.c_str())) {
        return UnavailableError("TLS server name for " + request.host + " rejected");
      }
      conn->secure->set_verify_callback(ssl::host_name_verification(request.host));
      stream.expires_after(request.timeout);
      conn->secure->async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
      RunAll(conn.get());
      if (ec) return HandshakeError(ec, key, request.host, request.port);
    }
    return conn;
  }

  Result<HttpResponse> Exchange(Connection* conn, const HttpRequest& request,
                                const std::string& key, bool* keep_alive) {
    http::request<http::buffer_body> req;
    req.method_string(request.method);
    req.target(request.target);
    req.version(11);
    bool default_port = request.port == (request.tls ? 443 : 80);
    req.set(http::field::host,
            default_port ? request.host : request.host + ":" + std::to_string(request.port));
    for (const auto& [name, value] : request.headers) req.set(name, value);
    req.body().data = const_cast<char*>(request.body.data());
    req.body().size = request.body.size();
    req.body().more = false;
    req.content_length(request.body.size());

    beast::error_code ec;
    conn->lowest().expires_after(request.timeout);
    auto on_write = [&](beast::error_code e, size_t) { ec = e; };
    if (conn->secure) {
      http::async_write(*conn->secure, req, on_write);
    } else {
      http::async_write(*conn->plain, req, on_write);
    }
    RunAll(conn);
    if (ec) return TransportError(ec, request.method + " " + key);

    http::response_parser<http::string_body> parser;
    parser.body_limit(request.max_body);
    if (request.method == "HEAD") parser.skip(true);
    conn->lowest().expires_after(request.timeout);
    auto on_read = [&](beast::error_code e, size_t) { ec = e; };
    // The header first: parsing eagerly, as http::read does, Beast 1.74 skips holding a
    // Content-Length against the body limit (chunked and read-to-end bodies it checks), so
    // that is checked here before the body is read.
    if (conn->secure) {
      http::async_read_header(*conn->secure, conn->buffer, parser, on_read);
    } else {
      http::async_read_header(*conn->plain, conn->buffer, parser, on_read);
    }
    RunAll(conn);
    if (!ec && !parser.is_done() && parser.content_length() &&
        *parser.content_length() > request.max_body) {
      ec = http::error::body_limit;
    }
    if (!ec && !parser.is_done()) {
      if (conn->secure) {
        http::async_read(*conn->secure, conn->buffer, parser, on_read);
      } else {
        http::async_read(*conn->plain, conn->buffer, parser, on_read);
      }
      RunAll(conn);
    }
    if (ec) return TransportError(ec, "response to " + request.method + " " + key);
    auto& res = parser.get();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(res.body());
    *keep_alive = res.keep_alive();
    return out;
  }

  static void RunAll(Connection* conn) {
    conn->ioc.restart();
    conn->ioc.run();
  }

  std::unique_ptr<Connection> TakeIdle(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& idle = idle_[key];
    if (idle.empty()) return nullptr;
    auto conn = std::move(idle.back());
    idle.pop_back();
    return conn;
  }

  void PutIdle(const std::string& key, std::unique_ptr<Connection> conn) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& idle = idle_[key];
    if (idle.size() < options_.max_idle_per_host) idle.push_back(std::move(conn));
  }

  HttpClientOptions options_;
  ssl::context tls_;
  beast::error_code tls_error_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
};

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && ::strncasecmp(key.data(), name.data(), name.size()) == 0) {
      return value;
    }
  }
  return std::nullopt;
}

Result<std::vector<std::string>> ResolveHost(const std::string& host) {
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto results = resolver.resolve(host, "", ec);
  if (ec == asio::error::host_not_found) {  // NXDOMAIN: retrying will not help
    return NotFoundError("resolve " + host + ": host not found; check the endpoint");
  }
  if (ec) return UnavailableError("resolve " + host + ": " + ec.message());
  std::vector<std::string> addresses;
  for (const auto& entry : results) {
    std::string text = entry.endpoint().address().to_string();
    if (std::find(addresses.begin(), addresses.end(), text) == addresses.end()) {
      addresses.push_back(text);
    }
  }
  if (addresses.empty()) return NotFoundError("resolve " + host + ": no addresses");
  return addresses;
}

std::unique_ptr<HttpClient> MakeHttpClient(const HttpClientOptions& options) {
  return std::make_unique<BeastHttpClient>(options);
}

}  // namespace standby
