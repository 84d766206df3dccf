// The HTTP API of a running `standby serve` (api/api_server.h), as clients meet it: the
// resources and the failover endpoint, webhooks, and Prometheus's own tools on /metrics:
// promtool's linter, and a real Prometheus server scraping with the token file.
#include <gtest/gtest.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <thread>
#include <vector>

#include "env/http_client.h"
#include "env/http_server.h"
#include "testing/raw_socket.h"
#include "tests/controller_cli_fixture.h"

namespace standby {
namespace {

std::string QueryEncode(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.') {
      out += static_cast<char>(c);
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

class ApiCliTest : public ControllerCliTest {
 protected:
  // Reads serve's "listening on" line and the token.
  void ConnectApi() {
    std::string url;
    ASSERT_TRUE(WaitFor(
        [&] {
          const std::string log = ServeLog();
          const size_t at = log.find("listening on http://127.0.0.1:");
          if (at == std::string::npos) return false;
          url = log.substr(at + 13, log.find('\n', at) - at - 13);
          return true;
        },
        10))
        << ServeLog();
    api_port_ = static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
    ProcessRun token = Standby("token show", Env());
    ASSERT_EQ(token.exit_code, 0) << token.err;
    bearer_ = std::string(TrimWhitespace(token.out));
  }
  HttpResponse Api(const std::string& method, const std::string& target,
                   const std::string& body = "") {
    HttpRequest r;
    r.method = method;
    r.tls = false;
    r.host = "127.0.0.1";
    r.port = api_port_;
    r.target = target;
    r.body = body;
    r.timeout = std::chrono::seconds(10);
    r.headers = {{"Authorization", "Bearer " + bearer_}};
    auto response = MakeHttpClient()->Send(r);
    EXPECT_TRUE(response.has_value());
    return response ? *response : HttpResponse{};
  }

  uint16_t api_port_ = 0;
  std::string bearer_;
};

// 64 unauthenticated sockets that never send a request (they locked the operator out: 0 of
// 199 requests answered in 40 s) hold no capacity: authenticated /metrics and /healthz keep
// answering while they stay open, and a chunked request whose trailers never end is refused.
TEST_F(ApiCliTest, IdleSocketsAndEndlessTrailersDoNotLockTheOperatorOut) {
  StartServe();
  ConnectApi();
  std::vector<int> idle;
  for (int i = 0; i < 64; ++i) idle.push_back(RawLoopbackConnection(api_port_));
  int answered = 0;
  for (int i = 0; i < 50; ++i) {
    answered += Api("GET", "/metrics").status == 200;
    answered += Api("GET", "/healthz").status == 200;
  }
  EXPECT_EQ(answered, 100);
  for (int fd : idle) ::close(fd);
  // Trailers that go on and on: 413, however small the body.
  std::string endless =
      "POST /api/v1/instances HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "1\r\nx\r\n0\r\n";
  while (endless.size() < (2 << 20)) endless += "X-Pad: " + std::string(200, 'p') + "\r\n";
  int fd = RawLoopbackConnection(api_port_);
  std::thread sender([&] { SendWhileRead(fd, endless); });
  const std::string answer = ReadUntilClosed(fd);
  ::shutdown(fd, SHUT_RDWR);
  sender.join();
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer.substr(0, 100);
  EXPECT_EQ(Api("GET", "/healthz").status, 200);
}

TEST_F(ApiCliTest, SSH_TheApiShowsTheInstanceAndItsFailoverEndpointMovesIt) {
  Seed();
  ProcessRun placed = Protect();
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  // A webhook receiver: the failover's start, phases and end arrive there too.
  std::mutex hooks_mu;
  std::vector<nlohmann::json> hooks;
  auto receiver = HttpServer::Start({.port = 0}, [&](const HttpServerRequest& r) {
    std::lock_guard<std::mutex> lock(hooks_mu);
    hooks.push_back(nlohmann::json::parse(r.body, nullptr, false));
    return HttpServerResponse{200, {}, ""};
  });
  ASSERT_TRUE(receiver.has_value());
  serve_args_ = {"--webhook", "http://127.0.0.1:" + std::to_string((*receiver)->port()) + "/hook"};
  StartServe();
  ASSERT_NO_FATAL_FAILURE(ConnectApi());
  EXPECT_EQ(ServeLog().find(bearer_), std::string::npos) << "the token is never logged";
  auto call = [&](const std::string& method, const std::string& target, const std::string& body) {
    return Api(method, target, body);
  };
  HttpResponse status = call("GET", "/api/v1/instances/llm-1", "");
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(nlohmann::json::parse(status.body)["state"], "healthy");
  HttpResponse started = call("POST", "/api/v1/instances/llm-1/failover", R"({"planned": true})");
  ASSERT_EQ(started.status, 202) << started.body;
  std::string location;
  for (const auto& [name, value] : started.headers) {
    if (strcasecmp(name.c_str(), "Location") == 0) location = value;
  }
  std::string failover_url;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto request = nlohmann::json::parse(call("GET", location, "").body, nullptr, false);
        failover_url = request.is_object() ? request.value("failover_url", "") : "";
        return !failover_url.empty();
      },
      30))
      << ServeLog();
  nlohmann::json failover;
  ASSERT_TRUE(WaitFor(
      [&] {
        failover = nlohmann::json::parse(call("GET", failover_url, "").body, nullptr, false);
        return failover.is_object() && failover.value("completed_at", int64_t{0}) > 0;
      },
      90))
      << ServeLog();
  EXPECT_TRUE(failover["success"].get<bool>()) << failover.dump();
  EXPECT_EQ(failover["trigger"], "planned");
  EXPECT_GE(failover["phases"].size(), 5u) << failover.dump();
  EXPECT_EQ(Fetch("/model.txt"), RandomBytes(1 << 20, 7));
  HttpResponse metrics = call("GET", "/metrics", "");
  EXPECT_NE(
      metrics.body.find(
          "standby_failovers_total{protected=\"llm-1\",trigger=\"planned\",result=\"success\"} 1"),
      std::string::npos)
      << metrics.body;
  EXPECT_EQ(call("GET", "/api/v1/instances", "").status, 200);
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(hooks_mu);
        return !hooks.empty() && hooks.back()["event"] == "failover.finished";
      },
      10));
  {
    std::lock_guard<std::mutex> lock(hooks_mu);
    EXPECT_EQ(hooks.front()["event"], "failover.started");
    EXPECT_EQ(hooks.front()["failover_id"], failover["failover_id"]);
    EXPECT_GE(hooks.size(), 4u);  // started, phases, finished
    EXPECT_TRUE(hooks.back()["success"].get<bool>());
    EXPECT_NE(hooks.back()["text"].get<std::string>().find("MTTR"), std::string::npos);
  }
  HttpRequest anonymous;
  anonymous.tls = false;
  anonymous.host = "127.0.0.1";
  anonymous.port = api_port_;
  anonymous.target = "/api/v1/instances";
  ASSERT_OK_AND_ASSIGN(HttpResponse refused, MakeHttpClient()->Send(anonymous));
  EXPECT_EQ(refused.status, 401);
}

// Prometheus's own tools: promtool lints what /metrics says, and a Prometheus server on
// loopback scrapes serve with the token file and sees the failover in its histogram.
TEST_F(ApiCliTest, SSH_PrometheusScrapesServeWithTheTokenFileAndCountsTheFailover) {
  Seed();
  ASSERT_EQ(Protect().exit_code, 0);
  StartServe();
  ASSERT_NO_FATAL_FAILURE(ConnectApi());
  HttpResponse metrics = Api("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  WriteFile(dir_.Sub("metrics.txt"), metrics.body);
  const std::string lint = "promtool check metrics < " + dir_.Sub("metrics.txt") + " > " +
                           dir_.Sub("promtool.out") + " 2>&1";
  EXPECT_EQ(std::system(lint.c_str()), 0) << ReadFile(dir_.Sub("promtool.out"));

  const uint16_t prometheus_port = FreeLoopbackPort();
  WriteFile(dir_.Sub("prometheus.yml"),
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: standby\n    authorization:\n"
            "      credentials_file: " +
                dir_.Sub("state/api-token") +
                "\n"
                "    static_configs:\n      - targets: ['127.0.0.1:" +
                std::to_string(api_port_) + "']\n");
  auto prometheus =
      SpawnChild({"prometheus", "--config.file=" + dir_.Sub("prometheus.yml"),
                  "--storage.tsdb.path=" + dir_.Sub("tsdb"),
                  "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)},
                 dir_.Sub("prometheus.log"));
  ASSERT_TRUE(prometheus.has_value());
  struct Stop {
    pid_t pid;
    ~Stop() { StopChild(pid); }
  } stop{*prometheus};
  // One instant query's single value, "" while there is none, "error" when the query failed.
  auto query = [&](const std::string& promql) -> std::string {
    HttpRequest r;
    r.tls = false;
    r.host = "127.0.0.1";
    r.port = prometheus_port;
    r.target = "/api/v1/query?query=" + QueryEncode(promql);
    r.timeout = std::chrono::seconds(5);
    auto response = MakeHttpClient()->Send(r);
    if (!response || response->status != 200) return "error";
    auto parsed = nlohmann::json::parse(response->body, nullptr, false);
    if (!parsed.is_object() || parsed["status"] != "success") return "error";
    if (parsed["data"]["result"].empty()) return "";
    return parsed["data"]["result"][0]["value"][1].get<std::string>();
  };
  ASSERT_TRUE(WaitFor([&] { return query("up{job=\"standby\"}") == "1"; }, 60))
      << ReadFile(dir_.Sub("prometheus.log"));
  EXPECT_EQ(query("sum(standby_failover_duration_seconds_count{trigger=\"manual\"})"), "");

  ASSERT_EQ(Api("POST", "/api/v1/instances/llm-1/failover", "").status, 202);
  ASSERT_TRUE(WaitFor([&] { return FailoversFinished(1); }, 90)) << ServeLog();
  EXPECT_TRUE(WaitFor(
      [&] {
        return query("sum(standby_failover_duration_seconds_count{trigger=\"manual\"})") == "1";
      },
      30))
      << query("standby_failover_duration_seconds_count");
  EXPECT_EQ(query("standby_instance_state{protected=\"llm-1\",state=\"healthy\"}"), "1");
  // The histograms now have samples: lint them too.
  HttpResponse after = Api("GET", "/metrics");
  ASSERT_EQ(after.status, 200);
  ASSERT_NE(after.body.find("standby_failover_duration_seconds_count{trigger=\"manual\"} 1"),
            std::string::npos)
      << after.body;
  WriteFile(dir_.Sub("metrics.txt"), after.body);
  EXPECT_EQ(std::system(lint.c_str()), 0) << ReadFile(dir_.Sub("promtool.out"));
}

}  // namespace
}  // namespace standby
