// The HTTP server against the project's own client over loopback: round trips with
// keep-alive, the size limits, the connection cap, and a prompt stop with idle clients.
#include "env/http_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "env/http_client.h"
#include "testing/raw_socket.h"
#include "testing/test_util.h"

namespace standby {
namespace {

HttpServer::Handler Echo(std::atomic<int>* calls) {
  return [calls](const HttpServerRequest& r) {
    ++*calls;
    return HttpServerResponse{200,
                              {{"Content-Type", "text/plain"}, {"X-Peer", r.peer}},
                              r.method + " " + r.target + " " + r.body + " " +
                                  (r.headers.count("x-test") ? r.headers.at("x-test") : "-")};
  };
}

HttpRequest To(uint16_t port, const std::string& target) {
  HttpRequest r;
  r.tls = false;
  r.host = "127.0.0.1";
  r.port = port;
  r.target = target;
  r.timeout = std::chrono::seconds(5);
  return r;
}

TEST(HttpServerTest, ServesRequestsOverOneKeptConnection) {
  std::atomic<int> calls{0};
  ASSERT_OK_AND_ASSIGN(auto server, HttpServer::Start({.port = 0}, Echo(&calls)));
  ASSERT_GT(server->port(), 0);
  auto client = MakeHttpClient();
  for (int i = 0; i < 3; ++i) {
    HttpRequest r = To(server->port(), "/a?b=" + std::to_string(i));
    r.method = "POST";
    r.body = "hello";
    r.headers = {{"X-Test", "yes"}};
    ASSERT_OK_AND_ASSIGN(HttpResponse res, client->Send(r));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, "POST /a?b=" + std::to_string(i) + " hello yes");
  }
  EXPECT_EQ(calls.load(), 3);
}

TEST(HttpServerTest, OversizedRequestsAreRefusedBeforeTheHandler) {
  std::atomic<int> calls{0};
  ASSERT_OK_AND_ASSIGN(auto server,
                       HttpServer::Start({.port = 0, .max_body_bytes = 1024}, Echo(&calls)));
  HttpRequest big = To(server->port(), "/");
  big.method = "POST";
  const std::string body(4096, 'x');
  big.body = body;
  ASSERT_OK_AND_ASSIGN(HttpResponse res, MakeHttpClient()->Send(big));
  EXPECT_EQ(res.status, 413);
  HttpRequest long_header = To(server->port(), "/");
  long_header.headers = {{"X-Test", std::string(16384, 'h')}};
  ASSERT_OK_AND_ASSIGN(HttpResponse res2, MakeHttpClient()->Send(long_header));
  EXPECT_EQ(res2.status, 413);
  EXPECT_EQ(calls.load(), 0);
}

// Idle connections hold no capacity: 64 sockets that never send a request (the attack that
// locked the operator out) neither fill the cap nor stop a request that comes after them;
// the oldest idle ones are closed to make room.
TEST(HttpServerTest, IdleConnectionsHoldNoCapacity) {
  std::atomic<int> calls{0};
  ASSERT_OK_AND_ASSIGN(auto server,
                       HttpServer::Start({.port = 0, .max_connections = 8}, Echo(&calls)));
  std::vector<int> idle;
  for (int i = 0; i < 64; ++i) idle.push_back(RawLoopbackConnection(server->port()));
  auto client = MakeHttpClient();
  int served = 0;
  for (int i = 0; i < 50; ++i) {
    auto res = client->Send(To(server->port(), "/metrics"));
    served += res && res->status == 200;
  }
  EXPECT_EQ(served, 50);
  char byte;
  EXPECT_EQ(::recv(idle.front(), &byte, 1, 0), 0) << "the oldest idle connection made room";
  for (int fd : idle) ::close(fd);
}

// Connections that are busy with a request keep their place: past the cap a new one is
// answered 503. Past its own cap one address is refused while another is served.
TEST(HttpServerTest, BusyConnectionsBeyondTheCapAreTurnedAway) {
  std::atomic<bool> release{false};
  auto handler = [&](const HttpServerRequest&) {
    HttpServerResponse out{200, {{"Content-Type", "text/event-stream"}}, ""};
    out.stream = [&](HttpStream& s) {
      s.Write("data: held\n\n");
      while (!release && s.Wait(std::chrono::milliseconds(20))) {
      }
    };
    return out;
  };
  ASSERT_OK_AND_ASSIGN(auto server, HttpServer::Start({.port = 0, .max_connections = 2}, handler));
  const std::string get = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
  std::vector<int> held;
  for (int i = 0; i < 2; ++i) {
    int fd = RawLoopbackConnection(server->port());
    ASSERT_EQ(::send(fd, get.data(), get.size(), 0), static_cast<ssize_t>(get.size()));
    char buf[256];
    ASSERT_GT(::recv(fd, buf, sizeof(buf), 0), 0);  // its stream has begun
    held.push_back(fd);
  }
  ASSERT_OK_AND_ASSIGN(HttpResponse full, MakeHttpClient()->Send(To(server->port(), "/")));
  EXPECT_EQ(full.status, 503);
  release = true;
  for (int fd : held) ::close(fd);
  held.clear();
  release = false;
  ASSERT_OK_AND_ASSIGN(
      auto shared,
      HttpServer::Start({.port = 0, .max_connections = 8, .max_connections_per_address = 2},
                        handler));
  auto answer_to = [&](const std::string& from) {
    int fd = RawLoopbackConnection(shared->port(), from);
    EXPECT_EQ(::send(fd, get.data(), get.size(), 0), static_cast<ssize_t>(get.size()));
    char buf[256];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    held.push_back(fd);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  };
  EXPECT_EQ(answer_to("127.0.0.1").rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(answer_to("127.0.0.1").rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(answer_to("127.0.0.1").rfind("HTTP/1.1 503", 0), 0u) << "over its address's share";
  EXPECT_EQ(answer_to("127.0.0.2").rfind("HTTP/1.1 200", 0), 0u) << "another address";
  release = true;
  for (int fd : held) ::close(fd);
}

TEST(HttpServerTest, AFirstRequestThatDoesNotArriveInTimeEndsItsConnection) {
  std::atomic<int> calls{0};
  ASSERT_OK_AND_ASSIGN(
      auto server,
      HttpServer::Start({.port = 0, .first_request_timeout = std::chrono::milliseconds(300)},
                        Echo(&calls)));
  int idle = RawLoopbackConnection(server->port());  // its reads give up after 5 s
  const auto start = std::chrono::steady_clock::now();
  char byte;
  EXPECT_EQ(::recv(idle, &byte, 1, 0), 0) << "closed by the server, not by our 5 s timeout";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  ::close(idle);
}

// The header, chunk framing, body and trailers of one request share one byte budget: a
// chunked request whose trailers (or chunk extensions) go on and on is answered 413 without
// reaching the handler, however little body it carries (it grew `serve` by gigabytes).
TEST(HttpServerTest, ChunkedTrailersAndExtensionsCountAgainstTheRequestBudget) {
  std::atomic<int> calls{0};
  ASSERT_OK_AND_ASSIGN(auto server, HttpServer::Start({.port = 0}, Echo(&calls)));
  const std::string head = "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string trailers = head + "5\r\nhello\r\n0\r\n";
  while (trailers.size() < (4 << 20)) trailers += "X-Pad: " + std::string(100, 'a') + "\r\n";
  std::string extensions = head;
  while (extensions.size() < (4 << 20)) {
    extensions += "1;pad=" + std::string(1000, 'b') + "\r\nz\r\n";
  }
  for (const std::string* attack : {&trailers, &extensions}) {
    int fd = RawLoopbackConnection(server->port());
    std::thread sender([&] { SendWhileRead(fd, *attack); });
    const std::string answer = ReadUntilClosed(fd);
    ::shutdown(fd, SHUT_RDWR);
    sender.join();
    ::close(fd);
    EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer.substr(0, 200);
  }
  EXPECT_EQ(calls.load(), 0);
  // A request within the budget, trailers and all, is served.
  int fd = RawLoopbackConnection(server->port());
  const std::string fine = head + "5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n";
  ASSERT_EQ(::send(fd, fine.data(), fine.size(), 0), static_cast<ssize_t>(fine.size()));
  char buf[512];
  ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  ASSERT_GT(n, 0);
  EXPECT_NE(std::string(buf, n).find("POST /x hello"), std::string::npos);
  ::close(fd);
}

// Two Host or Authorization headers could be read one way here and another by a proxy in
// front: refused before the handler.
TEST(HttpServerTest, ARepeatedCredentialOrRoutingHeaderIsRefused) {
  std::atomic<int> calls{0};
  ASSERT_OK_AND_ASSIGN(auto server, HttpServer::Start({.port = 0}, Echo(&calls)));
  for (const std::string twice :
       {"Host: a\r\nHost: b\r\n",
        "Host: a\r\nAuthorization: Bearer x\r\nAuthorization: Bearer y\r\n"}) {
    int fd = RawLoopbackConnection(server->port());
    const std::string request = "GET / HTTP/1.1\r\n" + twice + "\r\n";
    ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
    const std::string answer = ReadUntilClosed(fd);
    ::close(fd);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  }
  EXPECT_EQ(calls.load(), 0);
}

// The client's side of a byte budget: a response body longer than the request allows is
// kResourceExhausted (never retried, never buffered past the limit).
TEST(HttpServerTest, AResponseLargerThanTheClientAllowsIsRefused) {
  auto handler = [](const HttpServerRequest&) {
    return HttpServerResponse{200, {{"Content-Type", "text/plain"}}, std::string(1 << 20, 'b')};
  };
  ASSERT_OK_AND_ASSIGN(auto server, HttpServer::Start({.port = 0}, handler));
  HttpRequest r = To(server->port(), "/");
  r.max_body = 64 << 10;
  auto refused = MakeHttpClient()->Send(r);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kResourceExhausted) << refused.error().message;
  r.max_body = 2 << 20;
  ASSERT_OK_AND_ASSIGN(HttpResponse whole, MakeHttpClient()->Send(r));
  EXPECT_EQ(whole.body.size(), 1u << 20);
}

TEST(HttpServerTest, StoppingClosesIdleConnectionsAtOnce) {
  std::atomic<int> calls{0};
  auto server = HttpServer::Start({.port = 0}, Echo(&calls));  // 30 s idle timeout
  ASSERT_TRUE(server.has_value());
  int idle = RawLoopbackConnection((*server)->port());
  // Half a request: the server has accepted it and sits in its read.
  const std::string partial = "GET / HTTP/1.1\r\nHost: x\r\n";
  ASSERT_EQ(::send(idle, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto start = std::chrono::steady_clock::now();
  server->reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  char byte;
  EXPECT_EQ(::recv(idle, &byte, 1, 0), 0) << "the connection was closed by the stop";
  ::close(idle);
}

TEST(HttpServerTest, AStreamIsSentInChunksAndEndsWhenTheClientLeavesOrTheServerStops) {
  std::atomic<bool> client_gone{false};
  std::atomic<int> streams{0};
  auto handler = [&](const HttpServerRequest& r) {
    HttpServerResponse out{200, {{"Content-Type", "text/event-stream"}}, ""};
    out.stream = [&, target = r.target](HttpStream& s) {
      ++streams;
      if (target == "/short") {
        s.Write("data: one\n\n");
        s.Write("data: two\n\n");
        return;
      }
      s.Write("data: hello\n\n");
      while (s.Wait(std::chrono::milliseconds(50))) {
      }
      client_gone = true;
    };
    return out;
  };
  ASSERT_OK_AND_ASSIGN(auto server, HttpServer::Start({.port = 0}, handler));
  const std::string get = "GET /short HTTP/1.1\r\nHost: x\r\n\r\n";
  int fd = RawLoopbackConnection(server->port());
  ASSERT_EQ(::send(fd, get.data(), get.size(), 0), static_cast<ssize_t>(get.size()));
  const std::string got = ReadUntilClosed(fd);
  ::close(fd);
  EXPECT_NE(got.find("Transfer-Encoding: chunked"), std::string::npos) << got;
  EXPECT_NE(got.find("\r\nb\r\ndata: one\n\n\r\nb\r\ndata: two\n\n\r\n0\r\n\r\n"),
            std::string::npos)
      << got;

  // HTTP/1.0 has no chunks: the body as it comes, ended by the close. HEAD: headers only.
  const std::string old = "GET /short HTTP/1.0\r\n\r\n";
  fd = RawLoopbackConnection(server->port());
  ASSERT_EQ(::send(fd, old.data(), old.size(), 0), static_cast<ssize_t>(old.size()));
  const std::string plain = ReadUntilClosed(fd);
  ::close(fd);
  EXPECT_EQ(plain.find("chunked"), std::string::npos) << plain;
  EXPECT_NE(plain.find("\r\n\r\ndata: one\n\ndata: two\n\n"), std::string::npos) << plain;
  const std::string head = "HEAD /short HTTP/1.1\r\nHost: x\r\n\r\n";
  fd = RawLoopbackConnection(server->port());
  ASSERT_EQ(::send(fd, head.data(), head.size(), 0), static_cast<ssize_t>(head.size()));
  const std::string headers = ReadUntilClosed(fd);
  ::close(fd);
  EXPECT_NE(headers.find("Transfer-Encoding: chunked"), std::string::npos) << headers;
  EXPECT_EQ(headers.find("data:"), std::string::npos) << headers;

  // A client that hangs up ends its stream (its thread is not held until the stop).
  const std::string endless = "GET /endless HTTP/1.1\r\nHost: x\r\n\r\n";
  fd = RawLoopbackConnection(server->port());
  ASSERT_EQ(::send(fd, endless.data(), endless.size(), 0), static_cast<ssize_t>(endless.size()));
  char buf[256];
  ASSERT_GT(::recv(fd, buf, sizeof(buf), 0), 0);
  ::close(fd);
  for (int i = 0; i < 100 && !client_gone; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(client_gone);

  // A stream still open when the server stops ends, and the stop does not wait for it.
  client_gone = false;
  fd = RawLoopbackConnection(server->port());
  ASSERT_EQ(::send(fd, endless.data(), endless.size(), 0), static_cast<ssize_t>(endless.size()));
  ASSERT_GT(::recv(fd, buf, sizeof(buf), 0), 0);
  const auto start = std::chrono::steady_clock::now();
  server.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(client_gone);
  ReadUntilClosed(fd);
  EXPECT_EQ(::recv(fd, buf, sizeof(buf), 0), 0) << "closed by the stop, not timed out";
  ::close(fd);
  EXPECT_EQ(streams, 4);  // two short ones (1.1, 1.0) and two endless; HEAD ran none
}

TEST(HttpServerTest, TlsWithAPrivateCaIsVerifiedAndPlainTextIsNotServed) {
  TempDir pki;
  ASSERT_TRUE(MakeTestPki(pki.path()));
  std::atomic<int> calls{0};
  HttpServerOptions options{.port = 0};
  options.tls_cert_file = pki.Sub("server.pem");
  options.tls_key_file = pki.Sub("server.key");
  ASSERT_OK_AND_ASSIGN(auto server, HttpServer::Start(options, Echo(&calls)));
  HttpRequest r = To(server->port(), "/secure");
  r.tls = true;
  r.host = "localhost";
  auto trusting = MakeHttpClient({.ca_file = pki.Sub("ca.pem")});
  for (int i = 0; i < 2; ++i) {
    auto response = trusting->Send(r);
    ASSERT_TRUE(response.has_value()) << response.error().message;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "GET /secure  -");
  }
  // Nobody else's CA vouches for it; a plain-text client gets no answer.
  auto strangers = MakeHttpClient();
  auto refused = strangers->Send(r);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("TLS"), std::string::npos) << refused.error().message;
  HttpRequest plain = To(server->port(), "/secure");
  EXPECT_FALSE(MakeHttpClient()->Send(plain).has_value());
  EXPECT_EQ(calls, 2);

  HttpServerOptions wrong_key = options;
  wrong_key.tls_key_file = pki.Sub("ca.key");
  auto mismatched = HttpServer::Start(wrong_key, Echo(&calls));
  ASSERT_FALSE(mismatched.has_value());
  EXPECT_EQ(mismatched.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(mismatched.error().message.find("ca.key"), std::string::npos)
      << mismatched.error().message;
  HttpServerOptions missing = options;
  missing.tls_cert_file = pki.Sub("nowhere.pem");
  auto absent = HttpServer::Start(missing, Echo(&calls));
  ASSERT_FALSE(absent.has_value());
  EXPECT_NE(absent.error().message.find("nowhere.pem"), std::string::npos);
}

TEST(HttpServerTest, BadAddressesAndBusyPortsAreOneLineErrors) {
  std::atomic<int> calls{0};
  auto named = HttpServer::Start({.host = "localhost", .port = 0}, Echo(&calls));
  ASSERT_FALSE(named.has_value());
  EXPECT_EQ(named.error().code, ErrorCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto first, HttpServer::Start({.port = 0}, Echo(&calls)));
  auto second = HttpServer::Start({.port = first->port()}, Echo(&calls));
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(second.error().message.find("127.0.0.1:" + std::to_string(first->port())),
            std::string::npos)
      << second.error().message;
}

}  // namespace
}  // namespace standby
