// Webhooks against a real HTTP server on loopback: the bodies (Slack's `text` included),
// the signature, retries of a failing receiver, and a controller that only ever queues.
#include "api/webhooks.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "base/sha256_hex.h"
#include "base/strings.h"
#include "env/http_server.h"
#include "testing/test_util.h"

namespace standby {
namespace {

using json = nlohmann::json;

// A receiver that records each POST and answers `fail_first` of them 500.
class Receiver {
 public:
  explicit Receiver(int fail_first = 0) : fail_first_(fail_first) {
    auto server = HttpServer::Start({.port = 0}, [this](const HttpServerRequest& r) {
      std::lock_guard<std::mutex> lock(mu_);
      if (fail_first_-- > 0) return HttpServerResponse{500, {}, "busy"};
      bodies.push_back(r.body);
      signatures.push_back(
          r.headers.count("x-standby-signature") ? r.headers.at("x-standby-signature") : "");
      return HttpServerResponse{200, {}, "ok"};
    });
    EXPECT_TRUE(server.has_value());
    server_ = std::move(*server);
  }
  std::string Url() const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/hook";
  }
  size_t Count() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies.size();
  }
  std::vector<std::string> bodies, signatures;

 private:
  std::mutex mu_;
  int fail_first_;
  std::unique_ptr<HttpServer> server_;
};

FailoverEvent Row(const std::string& phase) {
  FailoverEvent e;
  e.failover_id = "fo-1";
  e.instance_id = "llm-1";
  e.trigger = "host_dead";
  e.phase = phase;
  e.new_instance_id = "771086";
  e.total_ms = 41600;
  e.success = phase == "done";
  return e;
}

bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 500 && !done(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return done();
}

TEST(WebhooksTest, FailoverStartPhasesAndEndArePostedSignedWithASlackText) {
  Receiver receiver;
  WebhookOptions options;
  options.urls = {receiver.Url()};
  options.secret = "hook-secret";
  ASSERT_OK_AND_ASSIGN(auto hooks,
                       WebhookNotifier::Start(options, Clock::Real(), MakeHttpClient()));
  for (const char* phase : {"detected", "replacing", "done"}) hooks->FailoverPhase(Row(phase));
  hooks->SnapshotFinished("llm-1", nullptr, 2, "store away");  // below the threshold: quiet
  hooks->SnapshotFinished("llm-1", nullptr, 3, "store away");
  FailoverEvent fence = Row("checking");
  fence.fence = "pending";
  fence.original_instance_id = "1001";
  fence.fence_detail = "bad bytes \xff\xfe from a host";  // invalid UTF-8: replaced, sent
  hooks->FenceChanged(fence);
  ASSERT_TRUE(WaitFor([&] { return receiver.Count() == 5; })) << receiver.Count();
  hooks.reset();
  std::vector<json> got;
  for (const std::string& b : receiver.bodies) got.push_back(json::parse(b));
  EXPECT_EQ(got[0]["event"], "failover.started");
  EXPECT_EQ(got[0]["text"], "standby: llm-1: failover fo-1 started (host_dead)");
  EXPECT_EQ(got[1]["event"], "failover.phase");
  EXPECT_EQ(got[1]["phase"], "replacing");
  EXPECT_EQ(got[2]["event"], "failover.finished");
  EXPECT_EQ(got[2]["mttr_ms"], 41600);
  EXPECT_EQ(got[2]["text"], "standby: llm-1: failover fo-1 done: 771086 serves; MTTR 41.6 s");
  EXPECT_EQ(got[3]["event"], "snapshot.failing");
  EXPECT_EQ(got[3]["consecutive_failures"], 3);
  EXPECT_EQ(got[4]["event"], "failover.fence");
  EXPECT_EQ(got[4]["fence"], "pending");
  EXPECT_EQ(got[4]["old_instance"], "1001");
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(receiver.signatures[i],
              "sha256=" + HexEncode(HmacSha256("hook-secret", receiver.bodies[i])));
  }
}

TEST(WebhooksTest, AFailingReceiverIsRetriedAndADeadOneNeverBlocksTheCaller) {
  Receiver flaky(2);
  WebhookOptions options;
  options.urls = {flaky.Url()};
  FakeClock clock(1'800'000'000'000'000'000,
                  {.auto_advance = true, .quiet = std::chrono::milliseconds(1)});
  ASSERT_OK_AND_ASSIGN(auto hooks, WebhookNotifier::Start(options, &clock, MakeHttpClient()));
  hooks->FailoverPhase(Row("detected"));
  EXPECT_TRUE(WaitFor([&] { return flaky.Count() == 1; }));  // after two 500s
  hooks.reset();

  WebhookOptions dead;
  dead.urls = {"http://127.0.0.1:1/hook"};
  dead.timeout = std::chrono::milliseconds(200);
  ASSERT_OK_AND_ASSIGN(auto blocked, WebhookNotifier::Start(dead, &clock, MakeHttpClient()));
  for (int i = 0; i < 50; ++i) blocked->FailoverPhase(Row("replacing"));
  // Stopping with a dead receiver and a queue: one try each, bounded, then gone.
  const auto start = std::chrono::steady_clock::now();
  blocked.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));
}

TEST(WebhooksTest, AHostsTextCannotBecomeASlackMentionOrLink) {
  FailoverEvent e = Row("failed");
  e.failure_phase = "restoring";
  e.failure_reason = "disk full <!channel> <https://evil.example|click> & more";
  const std::string text = WebhookNotifier::FailoverBody(e)["text"];
  EXPECT_EQ(text.find('<'), std::string::npos) << text;
  EXPECT_NE(text.find("&lt;!channel&gt;"), std::string::npos) << text;
  EXPECT_NE(text.find("&amp; more"), std::string::npos) << text;
}

TEST(WebhooksTest, AnUnfencedOldHostIsAnnouncedWithWhatToDo) {
  FailoverEvent e = Row("starting");
  e.original_instance_id = "1001";
  e.fence = "waiting";
  e.fence_detail = "ssh: connection timed out <!here>";
  nlohmann::json body = WebhookNotifier::FenceBody(e);
  EXPECT_EQ(body["event"], "failover.fence");
  EXPECT_EQ(body["fence"], "waiting");
  const std::string text = body["text"];
  EXPECT_NE(text.find("standby fence confirm " + e.failover_id), std::string::npos) << text;
  EXPECT_EQ(text.find('<'), std::string::npos) << text;
  e.fence = "confirmed";
  EXPECT_NE(WebhookNotifier::FenceBody(e)["text"].get<std::string>().find("fenced now"),
            std::string::npos);
}

TEST(WebhooksTest, OnlyHttpUrlsAreAccepted) {
  for (const char* url : {"ftp://x/y", "http://", "https://h:0/x", "h:80/x"}) {
    WebhookOptions options;
    options.urls = {url};
    auto hooks = WebhookNotifier::Start(options, Clock::Real(), MakeHttpClient());
    EXPECT_FALSE(hooks.has_value()) << url;
  }
}

}  // namespace
}  // namespace standby
