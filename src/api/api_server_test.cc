// The HTTP API over loopback, through the project's own HTTP client: authentication and its
// rate limit, the Host check, the resources and their errors, /metrics.
#include "api/api_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>
#include <thread>

#include "api/api_token.h"
#include "api/prometheus_text.h"
#include "env/http_client.h"
#include "failover/operations.h"
#include "state/open_state_store.h"
#include "testing/test_util.h"

namespace standby {
namespace {

using json = nlohmann::json;

class ApiServerTest : public ::testing::Test {
 protected:
  ApiServerTest() : random_(7) {
    state_ = std::move(*OpenStateStore("", dir_.Sub("state")));
    ctx_.clock = Clock::Real();
    ctx_.random = &random_;
    ctx_.state = state_.get();
    ctx_.controller = "test";
  }
  void SetUp() override {
    ApiOptions options;
    options.listen = "127.0.0.1:0";
    options.state_dir = dir_.Sub("state");
    options.live = &live_;
    auto started = ApiServer::Start(&ctx_, options);
    ASSERT_TRUE(started.has_value()) << started.error().message;
    api_ = std::move(*started);
    token_ = *LoadOrCreateApiToken(dir_.Sub("state"));
    port_ = static_cast<uint16_t>(std::stoi(api_->url().substr(api_->url().rfind(':') + 1)));
  }
  HttpResponse Call(const std::string& method, const std::string& target, const std::string& token,
                    const std::string& body = "", const std::string& host = "") {
    HttpRequest r;
    r.method = method;
    r.tls = false;
    r.host = "127.0.0.1";
    r.port = port_;
    r.target = target;
    r.timeout = std::chrono::seconds(10);
    if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
    if (!host.empty()) r.headers.emplace_back("Host", host);
    r.body = body;
    auto response = MakeHttpClient()->Send(r);
    EXPECT_TRUE(response.has_value()) << (response ? "" : response.error().message);
    return response ? *response : HttpResponse{};
  }
  HttpResponse Get(const std::string& target) { return Call("GET", target, token_); }
  static std::string Header(const HttpResponse& r, const std::string& name) {
    for (const auto& [n, v] : r.headers) {
      if (strcasecmp(n.c_str(), name.c_str()) == 0) return v;
    }
    return "";
  }
  void Protected(const std::string& name, const std::string& status) {
    ProtectedInstance p;
    p.instance_id = name;
    p.spec_json = "{}";
    p.status = status;
    p.provider = "local";
    p.provider_instance_id = "771086";
    p.last_snapshot_at = NowMillis(Clock::Real()) - 12 * 60 * 1000;
    p.last_snapshot_id = "20261201T000000Z-abcd1234";
    ASSERT_OK(state_->CreateProtectedInstance(p));
  }
  FailoverEvent Failover(const std::string& id, int64_t started_at, bool running) {
    FailoverEvent e;
    e.failover_id = id;
    e.instance_id = "llm-1";
    e.trigger = "host_dead";
    e.started_at = started_at;
    e.completed_at = running ? 0 : started_at + 41600;
    e.success = !running;
    e.total_ms = running ? 0 : 41600;
    e.detection_ms = 4000;
    e.gpu_provisioning_time_ms = 30000;
    e.phase = running ? "restoring" : "done";
    e.phase_timings_json = R"({"restoring":{"start_ms":1,"end_ms":5,"ms":4,"status":"ok"}})";
    EXPECT_OK(state_->RecordFailoverEvent(e));
    return e;
  }
  void Heartbeat() {
    ControllerRow c;
    c.controller = "test";
    c.started_at = c.heartbeat_at = NowMillis(Clock::Real());
    c.probe_interval_ms = 2000;
    ASSERT_OK(state_->RecordControllerHeartbeat(c));
  }

  TempDir dir_;
  SeededRandom random_;
  std::unique_ptr<StateStore> state_;
  ControllerContext ctx_;
  LiveMetrics live_;
  std::unique_ptr<ApiServer> api_;
  std::string token_;
  uint16_t port_ = 0;
};

TEST_F(ApiServerTest, EveryRouteButHealthzWantsTheTokenFromAPrivateFile) {
  struct stat st {};
  ASSERT_EQ(::stat(ApiTokenPath(dir_.Sub("state")).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(token_.size(), 64u);
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
  for (const char* target : {"/api/v1/instances", "/metrics", "/readyz", "/api/v1/failovers"}) {
    HttpResponse none = Call("GET", target, "");
    EXPECT_EQ(none.status, 401) << target;
    EXPECT_EQ(Header(none, "WWW-Authenticate"), "Bearer realm=\"standby\"");
    EXPECT_EQ(Header(none, "Content-Type"), "application/problem+json");
    EXPECT_EQ(none.body.find(token_), std::string::npos);
    EXPECT_EQ(Call("GET", target, token_).status, 200) << target;
  }
  HttpResponse ok = Get("/api/v1/instances");
  EXPECT_EQ(Header(ok, "X-Content-Type-Options"), "nosniff");
  for (const auto& [name, value] : ok.headers) {
    EXPECT_EQ(name.rfind("Access-Control-", 0), std::string::npos) << "no CORS: " << name;
  }
  // A page that a rebinding pointed here names its own host: refused.
  EXPECT_EQ(Call("GET", "/api/v1/instances", token_, "", "evil.example:7788").status, 403);
  EXPECT_EQ(
      Call("GET", "/api/v1/instances", token_, "", "localhost:" + std::to_string(port_)).status,
      200);
  // Requests without a token (a browser page can make them) never lock anyone out; guessing
  // is rate-limited per address, but the right token still passes (behind a proxy all
  // clients share an address: a guesser must not lock the operator out).
  for (int i = 0; i < 15; ++i) EXPECT_EQ(Call("GET", "/metrics", "").status, 401);
  EXPECT_EQ(Call("GET", "/metrics", token_).status, 200);
  EXPECT_EQ(Call("HEAD", "/api/v1/instances", token_).status, 200);
  EXPECT_EQ(Call("POST", "/healthz", "").status, 405);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Call("GET", "/metrics", "0000").status, 401);
  HttpResponse blocked = Call("GET", "/metrics", "0000");
  EXPECT_EQ(blocked.status, 429);
  EXPECT_EQ(Header(blocked, "Retry-After"), "60");
  EXPECT_EQ(Call("GET", "/metrics", token_ + "x").status, 429);
  EXPECT_EQ(Call("GET", "/metrics", token_).status, 200);
}

TEST_F(ApiServerTest, TheDashboardIsServedWithoutTheTokenUnderAStrictPolicy) {
  HttpResponse page = Call("GET", "/", "");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(Header(page, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<script src=\"/app.js\""), std::string::npos);
  EXPECT_EQ(page.body.find("<script>"), std::string::npos) << "no inline script";
  const std::string csp = Header(page, "Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
  EXPECT_EQ(Header(page, "Cache-Control"), "no-cache");
  EXPECT_EQ(Header(page, "X-Content-Type-Options"), "nosniff");
  const std::string etag = Header(page, "ETag");
  ASSERT_FALSE(etag.empty());
  HttpRequest again;
  again.tls = false;
  again.host = "127.0.0.1";
  again.port = port_;
  again.target = "/";
  again.headers = {{"If-None-Match", etag}};
  again.timeout = std::chrono::seconds(5);
  auto revalidated = MakeHttpClient()->Send(again);
  ASSERT_TRUE(revalidated.has_value());
  EXPECT_EQ(revalidated->status, 304);
  EXPECT_TRUE(revalidated->body.empty());
  HttpResponse script = Call("GET", "/app.js", "");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(Header(script, "Content-Type"), "text/javascript; charset=utf-8");
  // Outside the API there is nothing else, token or not; the API still wants the token.
  EXPECT_EQ(Call("GET", "/favicon.ico", "").status, 404);
  EXPECT_EQ(Call("GET", "/../etc/passwd", "").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/nothing", "").status, 401);
  EXPECT_EQ(Call("POST", "/", "").status, 405);
  // A rebinding page cannot read the dashboard either.
  EXPECT_EQ(Call("GET", "/", "", "", "evil.example:7788").status, 403);
}

TEST_F(ApiServerTest, ARotatedTokenReplacesTheOldOneAtOnce) {
  EXPECT_EQ(Call("GET", "/api/v1/instances", token_).status, 200);
  ASSERT_OK_AND_ASSIGN(std::string fresh, RotateApiToken(dir_.Sub("state")));
  EXPECT_NE(fresh, token_);
  // The old one is refused at its very next use, before anyone presents the new one.
  EXPECT_EQ(Call("GET", "/api/v1/instances", token_).status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/instances", fresh).status, 200);
}

TEST_F(ApiServerTest, InstancesFailoversAndRequestsAreServedAsResources) {
  Protected("llm-1", "healthy");
  const int64_t now = NowMillis(Clock::Real());
  FailoverEvent older = Failover("fo-older", now - 7200000, false);
  FailoverEvent newer = Failover("fo-newer", now - 3600000, false);
  SnapshotRow s;
  s.snapshot_id = "20261201T000000Z-abcd1234";
  s.instance_id = "llm-1";
  s.snapshot_type = "full";
  s.created_at = now - 12 * 60 * 1000;
  ASSERT_OK(state_->RecordSnapshot(s));

  HttpResponse one = Get("/api/v1/instances/llm-1");
  ASSERT_EQ(one.status, 200) << one.body;
  json instance = json::parse(one.body);
  EXPECT_EQ(instance["name"], "llm-1");
  EXPECT_TRUE(instance.contains("now_ms"));
  EXPECT_EQ(Get("/api/v1/instances/nope").status, 404);
  for (const char* odd : {"/api/v1/instances/", "/api/v1//instances", "/api/v1/", "/api/v2/x",
                          "/api/v1/instances/llm-1/../llm-1", "/api/v1/instances/llm-1/nope"}) {
    EXPECT_EQ(Get(odd).status, 404) << odd;
  }
  json snapshots = json::parse(Get("/api/v1/instances/llm-1/snapshots").body);
  ASSERT_EQ(snapshots["snapshots"].size(), 1u);
  EXPECT_EQ(snapshots["snapshots"][0]["snapshot_type"], "full");

  json page = json::parse(Get("/api/v1/failovers?instance=llm-1&limit=1").body);
  ASSERT_EQ(page["failovers"].size(), 1u);
  EXPECT_EQ(page["failovers"][0]["failover_id"], "fo-newer");
  const int64_t before = page["next_before"];
  json rest = json::parse(
      Get("/api/v1/failovers?instance=llm-1&limit=1&before=" + std::to_string(before)).body);
  ASSERT_EQ(rest["failovers"].size(), 1u);
  EXPECT_EQ(rest["failovers"][0]["failover_id"], "fo-older");
  EXPECT_EQ(Get("/api/v1/failovers?limit=0").status, 400);
  json detail = json::parse(Get("/api/v1/failovers/fo-newer").body);
  EXPECT_EQ(detail["total_ms"], 41600);
  ASSERT_EQ(detail["phases"].size(), 1u);
  EXPECT_EQ(detail["phases"][0]["name"], "restoring");
  EXPECT_EQ(detail["phases"][0]["duration_ms"], 4);
  EXPECT_EQ(Get("/api/v1/failovers/fo-none").status, 404);

  // The seed's fast-failover endpoint: without a controller it says so; with one, 202.
  HttpResponse nobody = Call("POST", "/api/v1/instances/llm-1/failover", token_, "{}");
  EXPECT_EQ(nobody.status, 503) << nobody.body;
  Heartbeat();
  EXPECT_EQ(Call("POST", "/api/v1/instances/llm-1/failover", token_, "{\"planned\": 1}").status,
            400);
  HttpResponse accepted =
      Call("POST", "/api/v1/instances/llm-1/failover", token_, "{\"planned\": true}");
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  // A second one while the first waits for the controller is queued too (the controller
  // answers it already_failing_over once the first has started), as from the CLI.
  EXPECT_EQ(Call("POST", "/api/v1/instances/llm-1/failover", token_, "").status, 202);
  const std::string location = Header(accepted, "Location");
  ASSERT_EQ(location.rfind("/api/v1/requests/rq-", 0), 0u) << location;
  json request = json::parse(Get(location).body);
  EXPECT_EQ(request["kind"], "failover");
  EXPECT_TRUE(request["planned"].get<bool>());
  EXPECT_EQ(Call("GET", "/api/v1/instances/llm-1/failover", token_).status, 405);

  Failover("fo-running", now, true);
  HttpResponse busy = Call("POST", "/api/v1/instances/llm-1/failover", token_, "");
  EXPECT_EQ(busy.status, 409) << busy.body;
  EXPECT_NE(busy.body.find("already_failing_over: failover fo-running"), std::string::npos)
      << busy.body;
  EXPECT_EQ(Call("POST", "/api/v1/instances/llm-1/snapshot", token_).status, 202);
}

TEST_F(ApiServerTest, MetricsAreTheExpositionFormatWithTheProtectedLabel) {
  Protected("llm-1", "healthy");
  Failover("fo-1", NowMillis(Clock::Real()) - 60000, false);
  live_.HealthChecked("llm-1", "ok");
  live_.HealthChecked("llm-1", "ok");
  SnapshotRow taken;
  taken.snapshot_type = "incremental";
  taken.bytes_uploaded = 1234;
  taken.duration_ms = 2500;
  live_.SnapshotFinished("llm-1", &taken, 0, "");
  live_.SnapshotFinished("llm-1", nullptr, 1, "store away");
  HttpResponse metrics = Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(Header(metrics, "Content-Type"), kPrometheusContentType);
  for (const char* line :
       {"standby_build_info{version=\"0.1.0\"} 1\n",
        "standby_instance_state{protected=\"llm-1\",state=\"healthy\"} 1\n",
        "standby_instance_state{protected=\"llm-1\",state=\"failing_over\"} 0\n",
        "standby_failovers_total{protected=\"llm-1\",trigger=\"host_dead\",result=\"success\"} 1\n",
        "standby_failover_duration_seconds_bucket{trigger=\"host_dead\",le=\"45\"} 1\n",
        "standby_failover_duration_seconds_bucket{trigger=\"host_dead\",le=\"30\"} 0\n",
        "# TYPE standby_failover_phase_duration_seconds histogram\n",
        "standby_health_checks_total{protected=\"llm-1\",result=\"ok\"} 2\n",
        "standby_health_checks_total{protected=\"llm-1\",result=\"timeout\"} 0\n",
        "standby_snapshots_total{protected=\"llm-1\",result=\"failure\"} 1\n",
        "standby_snapshot_uploaded_bytes_total{protected=\"llm-1\"} 1234\n",
        "standby_snapshot_duration_seconds_bucket{kind=\"incremental\",le=\"2\"} 0\n",
        "standby_snapshot_duration_seconds_bucket{kind=\"incremental\",le=\"5\"} 1\n",
        "standby_snapshot_duration_seconds_count{kind=\"full\"} 0\n",
        "# TYPE standby_provider_requests_total counter\n", "standby_sse_clients 0\n",
        "# TYPE process_resident_memory_bytes gauge\n"}) {
    EXPECT_NE(metrics.body.find(line), std::string::npos) << line << "\n" << metrics.body;
  }
  EXPECT_EQ(metrics.body.find("instance="), std::string::npos);
  EXPECT_NE(
      metrics.body.find("standby_last_snapshot_success_timestamp_seconds{protected=\"llm-1\"} "),
      std::string::npos);
}

// An event stream read over a raw socket (the client reads whole bodies only).
class EventStreamReader {
 public:
  EventStreamReader(uint16_t port, const std::string& token, const std::string& last_id) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval slice{0, 200'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &slice, sizeof(slice));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    std::string request = "GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                          "\r\nAuthorization: Bearer " + token + "\r\n";
    if (!last_id.empty()) request += "Last-Event-ID: " + last_id + "\r\n";
    request += "\r\n";
    EXPECT_EQ(::send(fd_, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  }
  ~EventStreamReader() { ::close(fd_); }
  // Reads until `text` has arrived (true) or 10 s passed (false).
  bool ReadUntil(const std::string& text) {
    for (int slice = 0; slice < 50; ++slice) {
      if (got_.find(text) != std::string::npos) return true;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n == 0) break;
      if (n > 0) got_.append(buf, n);
    }
    return got_.find(text) != std::string::npos;
  }
  const std::string& got() const { return got_; }

 private:
  int fd_;
  std::string got_;
};

TEST_F(ApiServerTest, EventsStreamLiveAndAReconnectReplaysWhatItMissed) {
  auto append = [&](const std::string& type, const std::string& phase) {
    auto id = state_->AppendEvent({.at = NowMillis(Clock::Real()),
                                   .instance_id = "llm-1",
                                   .type = type,
                                   .data_json = json{{"phase", phase}}.dump()});
    EXPECT_TRUE(id.has_value());
    return id ? std::to_string(*id) : "";
  };
  const std::string started = append("failover.started", "detected");
  const std::string restoring = append("failover.phase", "restoring");
  const std::string finished = append("failover.finished", "done");
  {
    // A client that saw `started` gets the two it missed, in order, then what comes live.
    EventStreamReader stream(port_, token_, started);
    ASSERT_TRUE(stream.ReadUntil("id: " + finished + "\n")) << stream.got();
    EXPECT_NE(stream.got().find("text/event-stream"), std::string::npos);
    EXPECT_NE(stream.got().find("retry: 3000\n"), std::string::npos);
    EXPECT_EQ(stream.got().find("id: " + started + "\nevent:"), std::string::npos);
    const size_t at_restoring =
        stream.got().find("id: " + restoring + "\nevent: failover.phase\ndata: {");
    ASSERT_NE(at_restoring, std::string::npos) << stream.got();
    EXPECT_LT(at_restoring, stream.got().find("event: failover.finished"));
    EXPECT_NE(stream.got().find(R"("instance":"llm-1")"), std::string::npos);
    EXPECT_NE(stream.got().find(R"("phase":"restoring")"), std::string::npos);
    const std::string live = append("instance.health", "");
    EXPECT_TRUE(stream.ReadUntil("id: " + live + "\nevent: instance.health\n")) << stream.got();
  }
  {
    // A new client starts from now: no history.
    const std::string now_id = std::to_string(state_->LastEventId().value_or(-1));
    EventStreamReader fresh(port_, token_, "");
    // It is told where it starts, so a reconnect before any event loses nothing.
    ASSERT_TRUE(fresh.ReadUntil("retry: 3000\nid: " + now_id + "\n\n")) << fresh.got();
    const std::string next = append("snapshot.finished", "");
    ASSERT_TRUE(fresh.ReadUntil("id: " + next + "\n")) << fresh.got();
    EXPECT_EQ(fresh.got().find("id: " + finished + "\n"), std::string::npos) << fresh.got();
  }
  // What a client missed was pruned: it is told to start over.
  ASSERT_TRUE(state_->PruneEvents(NowMillis(Clock::Real()) + 60000).has_value());
  {
    EventStreamReader late(port_, token_, started);
    EXPECT_TRUE(late.ReadUntil("event: reset\n")) << late.got();
  }
  EXPECT_EQ(Call("GET", "/api/v1/events", "").status, 401);
  auto sse_clients = [&] {
    const std::string body = Get("/metrics").body;
    const size_t at = body.find("\nstandby_sse_clients ");
    return at == std::string::npos ? -1 : std::stoi(body.substr(at + 21));
  };
  auto settles_at = [&](int n) {
    for (int i = 0; i < 50 && sse_clients() != n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return sse_clients() == n;
  };
  EXPECT_TRUE(settles_at(0)) << "closed streams are no longer counted";
  {
    // At most 16 streams; the next is refused until one closes.
    std::vector<std::unique_ptr<EventStreamReader>> open;
    for (int i = 0; i < 16; ++i) {
      open.push_back(std::make_unique<EventStreamReader>(port_, token_, ""));
      ASSERT_TRUE(open.back()->ReadUntil("retry: 3000")) << i;
    }
    EXPECT_EQ(sse_clients(), 16);
    EventStreamReader refused(port_, token_, "");
    EXPECT_TRUE(refused.ReadUntil("HTTP/1.1 503")) << refused.got();
  }
  EXPECT_TRUE(settles_at(0));
  {
    // Rotating the token ends the streams opened with the old one.
    EventStreamReader stream(port_, token_, "");
    ASSERT_TRUE(stream.ReadUntil("retry: 3000"));
    ASSERT_TRUE(RotateApiToken(dir_.Sub("state")).has_value());
    EXPECT_TRUE(stream.ReadUntil("\r\n0\r\n\r\n")) << "the stream was ended: " << stream.got();
  }
  token_ = *LoadOrCreateApiToken(dir_.Sub("state"));
  HttpRequest bad;
  bad.tls = false;
  bad.host = "127.0.0.1";
  bad.port = port_;
  bad.target = "/api/v1/events?after=x";
  bad.headers = {{"Authorization", "Bearer " + token_}};
  bad.timeout = std::chrono::seconds(5);
  auto refused = MakeHttpClient()->Send(bad);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 400);
}

TEST(ApiServerStartTest, TlsWithAPrivateCaServesHttpsAndMayListenBeyondLoopback) {
  TempDir dir;
  ASSERT_TRUE(MakeTestPki(dir.path()));
  auto state = std::move(*OpenStateStore("", dir.Sub("state")));
  ControllerContext ctx;
  ctx.clock = Clock::Real();
  ctx.state = state.get();
  ApiOptions options;
  options.listen = "0.0.0.0:0";  // not loopback: allowed because it is TLS
  options.state_dir = dir.Sub("state");
  options.tls_cert = dir.Sub("server.pem");
  options.tls_key = dir.Sub("server.key");
  ASSERT_OK_AND_ASSIGN(auto api, ApiServer::Start(&ctx, options));
  ASSERT_EQ(api->url().rfind("https://0.0.0.0:", 0), 0u) << api->url();
  const std::string token = *LoadOrCreateApiToken(dir.Sub("state"));
  HttpRequest r;
  r.host = "localhost";
  r.port = static_cast<uint16_t>(std::stoi(api->url().substr(api->url().rfind(':') + 1)));
  r.target = "/api/v1/instances";
  r.headers = {{"Authorization", "Bearer " + token}};
  r.timeout = std::chrono::seconds(10);
  auto response = MakeHttpClient({.ca_file = dir.Sub("ca.pem")})->Send(r);
  ASSERT_TRUE(response.has_value()) << response.error().message;
  EXPECT_EQ(response->status, 200) << response->body;
  ASSERT_EQ(::chmod(options.tls_key.c_str(), 0644), 0);
  auto exposed = ApiServer::Start(&ctx, options);
  ASSERT_FALSE(exposed.has_value());
  EXPECT_EQ(exposed.error().code, ErrorCode::kPermissionDenied);
  options.tls_key.clear();
  auto half = ApiServer::Start(&ctx, options);
  ASSERT_FALSE(half.has_value());
  EXPECT_NE(half.error().message.find("--tls-cert and --tls-key"), std::string::npos);
}

TEST(ApiServerStartTest, ANonLoopbackAddressOrAReadableTokenIsRefused) {
  TempDir dir;
  ControllerContext ctx;
  ApiOptions options;
  options.state_dir = dir.Sub("state");
  options.listen = "0.0.0.0:0";
  auto open = ApiServer::Start(&ctx, options);
  ASSERT_FALSE(open.has_value());
  EXPECT_EQ(open.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(open.error().message.find("--insecure-listen"), std::string::npos);
  options.listen = "127.0.0.1";
  EXPECT_FALSE(ApiServer::Start(&ctx, options).has_value());
  options.listen = "127.0.0.1:0";
  ASSERT_OK(LoadOrCreateApiToken(options.state_dir));
  ASSERT_EQ(::chmod(ApiTokenPath(options.state_dir).c_str(), 0644), 0);
  auto readable = ApiServer::Start(&ctx, options);
  ASSERT_FALSE(readable.has_value());
  EXPECT_EQ(readable.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(readable.error().message.find("chmod 600"), std::string::npos);
}

}  // namespace
}  // namespace standby
