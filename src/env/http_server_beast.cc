#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <type_traits>

#include "base/log.h"
#include "env/http_server.h"

namespace standby {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using TlsStream = ssl::stream<tcp::socket&>;

class BeastServer : public HttpServer {
 public:
  BeastServer(const HttpServerOptions& options, Handler handler)
      : options_(options),
        handler_(std::move(handler)),
        acceptor_(ioc_),
        tls_(ssl::context::tls_server) {}

  ~BeastServer() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      // A blocked accept() returns on shutdown (a close from another thread would not wake
      // it); blocked reads likewise.
      ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
      for (const auto& [fd, connection] : open_) ::shutdown(fd, SHUT_RDWR);
    }
    changed_.notify_all();
    if (acceptor_thread_.joinable()) acceptor_thread_.join();
    if (watchdog_.joinable()) watchdog_.join();
    beast::error_code ec;
    acceptor_.close(ec);
    std::unique_lock<std::mutex> lock(mu_);
    drained_.wait(lock, [&] { return open_.empty(); });
  }

  Status Listen() {
    beast::error_code ec;
    if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
      if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
        return InvalidArgumentError("TLS needs both a certificate and its private key");
      }
      tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
      tls_.use_certificate_chain_file(options_.tls_cert_file, ec);
      if (ec) {
        return InvalidArgumentError("cannot use the TLS certificate " + options_.tls_cert_file +
                                    ": " + ec.message());
      }
      tls_.use_private_key_file(options_.tls_key_file, ssl::context::pem, ec);
      if (ec) {
        return InvalidArgumentError("cannot use the TLS key " + options_.tls_key_file + ": " +
                                    ec.message() + " (is it the certificate's key, in PEM?)");
      }
      secure_ = true;
    }
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec) {
      return InvalidArgumentError("cannot listen on \"" + options_.host +
                                  "\": not an IP address (give e.g. 127.0.0.1 or ::1)");
    }
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return UnavailableError("cannot listen on " + Describe(endpoint) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    acceptor_thread_ = std::thread([this] { AcceptLoop(); });
    watchdog_ = std::thread([this] { Watchdog(); });
    return OkStatus();
  }

  uint16_t port() const override { return port_; }

 private:
  static std::string Describe(const tcp::endpoint& e) {
    const std::string host = e.address().to_string();
    return (e.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(e.port());
  }

  void AcceptLoop() {
    while (true) {
      auto socket = std::make_unique<tcp::socket>(ioc_);
      beast::error_code ec;
      acceptor_.accept(*socket, ec);
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_) return;
      if (ec) {
        // A connection reset before it was accepted, or out of descriptors: do not spin.
        lock.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      beast::error_code peer_ec;
      std::string peer = socket->remote_endpoint(peer_ec).address().to_string();
      if (!MakeRoomFor(peer)) {
        lock.unlock();
        if (!secure_) Refuse(*socket);  // a TLS client would not read a plain answer
        continue;
      }
      const int fd = socket->native_handle();
      open_[fd] = {kDisarmed, std::move(peer), Now(), false};
      try {
        std::thread([this, fd, s = std::move(socket)]() mutable {
          Accepted(*s);
          std::lock_guard<std::mutex> done(mu_);
          open_.erase(fd);
          drained_.notify_all();
          s.reset();  // closed under the lock: its descriptor cannot be reused and shut down
        }).detach();
      } catch (const std::system_error& e) {  // no thread to be had: this one is refused
        open_.erase(fd);
        spdlog::warn("http: cannot serve a connection: {}", e.what());
      }
    }
  }

  // Whether a new connection from `peer` may be served, making room if it must: connections
  // waiting for a request (new ones, kept ones between requests) hold no capacity against one
  // that might bring one — at the cap (all connections, or this address's), the one waiting
  // longest is closed. Refused only when every connection is busy with a request. Called
  // with mu_ held.
  bool MakeRoomFor(const std::string& peer) {
    size_t open = 0, from_peer = 0;
    for (const auto& [fd, c] : open_) {
      if (c.evicted) continue;
      ++open;
      from_peer += c.peer == peer;
    }
    const bool peer_full = from_peer >= options_.max_connections_per_address;
    if (open < options_.max_connections && !peer_full) return true;
    int oldest = -1;
    for (const auto& [fd, c] : open_) {
      if (c.evicted || c.waiting_since == 0 || (peer_full && c.peer != peer)) continue;
      if (oldest < 0 || c.waiting_since < open_[oldest].waiting_since) oldest = fd;
    }
    if (oldest < 0) return false;
    ::shutdown(oldest, SHUT_RDWR);
    open_[oldest].evicted = true;
    return true;
  }

  static void Refuse(tcp::socket& socket) {
    http::response<http::string_body> res{http::status::service_unavailable, 11};
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.set(http::field::connection, "close");
    res.body() = "too many connections\n";
    res.prepare_payload();
    beast::error_code ec;
    http::write(socket, res, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  static constexpr int64_t kDisarmed = INT64_MAX;
  static constexpr std::chrono::milliseconds kNever{-1};
  static constexpr size_t kReadChunk = 64 * 1024;
  static int64_t Now() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

  // While armed, a connection that has not finished its read or write by idle_timeout is
  // shut down by the watchdog (Asio's blocking reads cannot time out by themselves): a
  // client that stops sending cannot hold its thread. The handler runs disarmed.
  void Arm(int fd, bool armed) { Arm(fd, armed ? options_.idle_timeout : kNever); }
  void Arm(int fd, std::chrono::milliseconds timeout) {
    std::lock_guard<std::mutex> lock(mu_);
    open_[fd].deadline =
        timeout == kNever ? kDisarmed : Now() + std::chrono::nanoseconds(timeout).count();
  }
  // The connection waits for a request (from accept, and between requests of a kept
  // connection): it may be closed to make room.
  void MarkWaiting(int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    open_[fd].waiting_since = Now();
  }
  // Its read has ended: disarmed, and from now on it holds its place while it is served.
  // False when it was closed to make room (it must not be served).
  bool Served(int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    Connection& c = open_[fd];
    c.deadline = kDisarmed;
    if (c.evicted) return false;
    c.waiting_since = 0;
    return true;
  }

  void Watchdog() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      changed_.wait_for(lock, std::chrono::milliseconds(100));
      const int64_t now = Now();
      for (auto& [fd, connection] : open_) {
        if (connection.deadline <= now) {
          ::shutdown(fd, SHUT_RDWR);
          connection.deadline = kDisarmed;
        }
      }
    }
  }

  // A TLS connection's handshake (within idle_timeout), then its requests.
  void Accepted(tcp::socket& socket) {
    beast::error_code ec;
    const std::string peer = socket.remote_endpoint(ec).address().to_string();
    const int fd = socket.native_handle();
    if (!secure_) {
      Serve(socket, fd, peer);
      socket.shutdown(tcp::socket::shutdown_both, ec);
      return;
    }
    TlsStream tls(socket, tls_);
    Arm(fd, options_.first_request_timeout);
    tls.handshake(ssl::stream_base::server, ec);
    Arm(fd, false);
    if (!ec) {
      Serve(tls, fd, peer);
      // Our close_notify, without waiting for the client's (which could hold the thread).
      Arm(fd, true);
      ::SSL_shutdown(tls.native_handle());
      Arm(fd, false);
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  // One request within its byte budget: header, chunk framing, body and trailers together
  // (Beast bounds the header and the body, but not the trailers of a chunked body).
  template <class S>
  beast::error_code ReadRequest(S& stream, beast::flat_buffer& buffer,
                                http::request_parser<http::string_body>& parser) {
    const uint64_t budget = 2 * options_.max_header_bytes + options_.max_body_bytes;
    uint64_t consumed = 0;
    beast::error_code ec;
    while (!parser.is_done()) {
      consumed += http::read_some(stream, buffer, parser, ec);
      if (ec) return ec;
      if (consumed > budget) return http::error::header_limit;
    }
    return ec;
  }

  template <class S>
  void Serve(S& stream, int fd, const std::string& peer) {
    beast::error_code ec;
    // What is buffered but not parsed yet: one header line or chunk header at most.
    beast::flat_buffer buffer(options_.max_header_bytes + kReadChunk);
    for (bool first = true;; first = false) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(options_.max_header_bytes));
      parser.body_limit(options_.max_body_bytes);
      if (!first) MarkWaiting(fd);
      Arm(fd, first ? options_.first_request_timeout : options_.idle_timeout);
      ec = ReadRequest(stream, buffer, parser);
      // One step, so that a connection closed to make room meanwhile is not served: its
      // request (already read) goes unanswered rather than run with nobody to hear it.
      if (!Served(fd)) break;
      if (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
          ec == asio::error::eof || ec == asio::error::would_block ||
          ec == asio::error::try_again || ec == asio::error::shut_down) {
        break;
      }
      if (ec) {
        const bool too_big = ec == http::error::body_limit || ec == http::error::header_limit ||
                             ec == http::error::buffer_overflow;
        WriteError(stream, too_big ? 413 : 400, too_big ? "request too large" : "bad request");
        if constexpr (std::is_same_v<S, tcp::socket>) DrainBeforeClose(stream, fd);
        break;
      }
      const auto& req = parser.get();
      HttpServerRequest in;
      in.method = std::string(req.method_string());
      in.target = std::string(req.target());
      bool repeated = false;  // a credential or routing header twice: which one counts?
      for (const auto& field : req) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const bool once = name == "host" || name == "authorization" || name == "cookie" ||
                          name == "content-length" || name == "transfer-encoding";
        repeated |= once && in.headers.contains(name);
        in.headers[name] = std::string(field.value());
      }
      if (repeated) {
        WriteError(stream, 400, "bad request: a header that may appear once is repeated");
        break;
      }
      in.body = req.body();
      in.peer = peer;
      HttpServerResponse out;
      try {
        out = handler_(in);
      } catch (const std::exception& e) {
        spdlog::error("http handler: {}", e.what());
        out = {500, {{"Content-Type", "text/plain; charset=utf-8"}}, "internal error\n"};
      }
      if (out.stream) {
        ServeStream(stream, fd, out, req.version(), req.method() == http::verb::head);
        break;
      }
      http::response<http::string_body> res{static_cast<http::status>(out.status), req.version()};
      for (const auto& [name, value] : out.headers) res.set(name, value);
      const bool head = req.method() == http::verb::head;
      const size_t length = out.body.size();
      if (!head) res.body() = std::move(out.body);
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      if (head) res.content_length(length);  // what a GET would send; no body follows
      Arm(fd, true);
      http::write(stream, res, ec);
      Arm(fd, false);
      if (ec || !res.keep_alive()) break;
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
  }

  template <class S>
  class Stream : public HttpStream {
   public:
    Stream(BeastServer* server, S& socket, int fd, bool chunked)
        : server_(server), socket_(socket), fd_(fd), chunked_(chunked) {}
    bool Write(std::string_view data) override {
      if (data.empty()) return Wait(std::chrono::milliseconds(0));
      const int fd = fd_;
      beast::error_code ec;
      server_->Arm(fd, true);
      if (chunked_) {
        asio::write(socket_, http::make_chunk(asio::buffer(data.data(), data.size())), ec);
      } else {  // HTTP/1.0: the body as it comes, ended by the close
        asio::write(socket_, asio::buffer(data.data(), data.size()), ec);
      }
      server_->Arm(fd, false);
      return !ec && !server_->Stopping();
    }
    bool Wait(std::chrono::milliseconds d) override {
      {
        std::unique_lock<std::mutex> lock(server_->mu_);
        server_->changed_.wait_for(lock, d, [&] { return server_->stopping_; });
        if (server_->stopping_) return false;
      }
      // The response ends with the connection (Connection: close), so a client has nothing
      // more to send: any byte (a TLS close_notify) or the end of its stream means it left.
      char byte;
      const ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    }

   private:
    BeastServer* server_;
    S& socket_;
    const int fd_;
    const bool chunked_;
  };

  // A client that vanishes without closing (a laptop closed) is noticed within about
  // 30 s instead of TCP's retransmission minutes: keepalive probes, and a bound on how long
  // sent data may stay unacknowledged.
  static void DetectVanishedPeer(int fd) {
    const int on = 1, idle = 15, interval = 5, count = 3;
    const unsigned timeout_ms = 30000;
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
    ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout_ms, sizeof(timeout_ms));
  }

  bool Stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopping_;
  }

  template <class S>
  void ServeStream(S& socket, int fd, HttpServerResponse& out, unsigned version, bool head) {
    http::response<http::empty_body> res{static_cast<http::status>(out.status), version};
    for (const auto& [name, value] : out.headers) res.set(name, value);
    const bool chunked = version >= 11;
    res.chunked(chunked);
    res.keep_alive(false);
    http::response_serializer<http::empty_body> serializer{res};
    beast::error_code ec;
    Arm(fd, true);
    http::write_header(socket, serializer, ec);
    Arm(fd, false);
    if (ec || head) return;
    DetectVanishedPeer(fd);
    Stream<S> stream(this, socket, fd, chunked);
    try {
      out.stream(stream);
    } catch (const std::exception& e) {
      spdlog::error("http stream: {}", e.what());
    }
    if (!chunked) return;
    Arm(fd, true);
    asio::write(socket, http::make_chunk_last(), ec);
    Arm(fd, false);
  }

  // After an error answer the client may still be sending; a close now would reset the
  // connection, and the reset can discard the answer before the client reads it. So: stop
  // writing, then discard what still comes, bounded in time and bytes.
  void DrainBeforeClose(tcp::socket& socket, int fd) {
    beast::error_code ec;
    socket.shutdown(tcp::socket::shutdown_send, ec);
    Arm(fd, std::chrono::milliseconds(1000));
    char sink[16384];
    for (size_t drained = 0; !ec && drained < (8u << 20);) {
      drained += socket.read_some(asio::buffer(sink), ec);
    }
    Arm(fd, false);
  }

  template <class S>
  void WriteError(S& stream, int status, const std::string& text) {
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.set(http::field::connection, "close");
    res.body() = text + "\n";
    res.prepare_payload();
    beast::error_code ec;
    http::write(stream, res, ec);
  }

  const HttpServerOptions options_;
  Handler handler_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  ssl::context tls_;
  bool secure_ = false;
  uint16_t port_ = 0;
  std::thread acceptor_thread_;
  std::thread watchdog_;
  std::mutex mu_;
  std::condition_variable drained_;
  std::condition_variable changed_;
  struct Connection {
    int64_t deadline;  // when its read or write must have ended
    std::string peer;
    int64_t waiting_since;  // since when it waits for a request; 0 while one is served
    bool evicted;           // shut down to make room; its thread has not ended yet
  };
  std::map<int, Connection> open_;  // the connections being served, by descriptor
  bool stopping_ = false;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      Handler handler) {
  auto server = std::make_unique<BeastServer>(options, std::move(handler));
  RETURN_IF_ERROR(server->Listen());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace standby
