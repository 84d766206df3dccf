#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "env/clock.h"
#include "env/http_client.h"
#include "failover/controller_observer.h"
#include "state/state_store.h"

namespace standby {

struct WebhookOptions {
  std::vector<std::string> urls;  // http:// or https://
  // Signs each body: X-Standby-Signature: sha256=<hex HMAC-SHA256 of the body>. From the
  // environment only (STANDBY_WEBHOOK_SECRET); empty: unsigned.
  std::string secret;
  // A delivery is tried this many times, waiting 1 s, 2 s, 4 s … between tries.
  int attempts = 5;
  std::chrono::milliseconds timeout{10000};  // each try
  size_t max_queued = 1000;                  // beyond it the oldest are dropped (logged)
  int snapshot_failures = 3;                 // failures in a row that are announced
};

// Webhooks of `standby serve` (docs/manual.md, "Webhooks"): a JSON POST to every URL on a
// failover's start, each phase change and its end, and when an instance's periodic
// snapshots have failed `snapshot_failures` times in a row. Bodies carry a Slack-compatible
// `text` line (so a Slack or Mattermost incoming webhook shows it as it is) next to the
// structured fields. Deliveries run on a thread of their own, retried with backoff and
// bounded: the controller only queues.
class WebhookNotifier : public ControllerObserver {
 public:
  // kInvalidArgument for a URL that is not http(s)://HOST[:PORT]/PATH.
  static Result<std::unique_ptr<WebhookNotifier>> Start(WebhookOptions options, Clock* clock,
                                                        std::unique_ptr<HttpClient> http);
  // Tries once more what is queued (each try bounded by `timeout`), then stops.
  ~WebhookNotifier();

  void FailoverPhase(const FailoverEvent& e) override;
  // failover.fence: an old host's fence became pending or waiting (someone should look at
  // it), or such a fence was confirmed.
  void FenceChanged(const FailoverEvent& e) override;
  void SnapshotFinished(const std::string& instance, const SnapshotRow* taken, int failures,
                        const std::string& error) override;

  // The body a failover row becomes (tests; docs/manual.md lists its fields).
  static nlohmann::json FailoverBody(const FailoverEvent& e);
  static nlohmann::json FenceBody(const FailoverEvent& e);

 private:
  struct Target {
    bool tls = false;
    std::string host;
    uint16_t port = 0;
    std::string path;
    std::string url;
  };
  WebhookNotifier(WebhookOptions options, Clock* clock, std::unique_ptr<HttpClient> http,
                  std::vector<Target> targets);
  void Enqueue(nlohmann::json body);
  void Loop();
  void Deliver(const Target& target, const std::string& body);

  const WebhookOptions options_;
  Clock* clock_;
  std::unique_ptr<HttpClient> http_;
  const std::vector<Target> targets_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace standby
