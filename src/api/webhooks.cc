#include "api/webhooks.h"

#include <cstdio>
#include <optional>

#include "base/json_fields.h"
#include "base/log.h"
#include "base/sha256_hex.h"
#include "base/strings.h"

namespace standby {
namespace {

constexpr auto kDrainFor = std::chrono::seconds(10);

// Slack's control characters: a host's error text must not become a mention or a link.
std::string SlackEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

// A webhook URL is a credential (Slack's path is its secret): logs and errors show the
// scheme and host only.
std::string Shown(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path) + "/…";
}

}  // namespace

Result<std::unique_ptr<WebhookNotifier>> WebhookNotifier::Start(WebhookOptions options,
                                                                Clock* clock,
                                                                std::unique_ptr<HttpClient> http) {
  std::vector<Target> targets;
  for (const std::string& url : options.urls) {
    Target t;
    t.url = url;
    std::string rest;
    if (url.rfind("https://", 0) == 0) {
      t.tls = true;
      rest = url.substr(8);
    } else if (url.rfind("http://", 0) == 0) {
      rest = url.substr(7);
    } else {
      return InvalidArgumentError("webhook " + Shown(url) + " is not an http:// or https:// URL");
    }
    const size_t slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    t.path = slash == std::string::npos ? "/" : rest.substr(slash);
    t.port = t.tls ? 443 : 80;
    const size_t close = authority.find(']');  // [v6] or [v6]:port
    const size_t colon = authority.rfind(':');
    if (colon != std::string::npos && (close == std::string::npos || colon > close)) {
      auto port = ParseUint(authority.substr(colon + 1));
      if (!port || *port == 0 || *port > 65535) {
        return InvalidArgumentError("webhook " + Shown(url) + " has a bad port");
      }
      t.port = static_cast<uint16_t>(*port);
      authority = authority.substr(0, colon);
    }
    if (authority.size() > 2 && authority.front() == '[' && authority.back() == ']') {
      authority = authority.substr(1, authority.size() - 2);
    }
    if (authority.empty()) return InvalidArgumentError("webhook " + Shown(url) + " has no host");
    t.host = authority;
    targets.push_back(std::move(t));
  }
  return std::unique_ptr<WebhookNotifier>(
      new WebhookNotifier(std::move(options), clock, std::move(http), std::move(targets)));
}

WebhookNotifier::WebhookNotifier(WebhookOptions options, Clock* clock,
                                 std::unique_ptr<HttpClient> http, std::vector<Target> targets)
    : options_(std::move(options)),
      clock_(clock),
      http_(std::move(http)),
      targets_(std::move(targets)) {
  thread_ = std::thread([this] { Loop(); });
}

WebhookNotifier::~WebhookNotifier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

nlohmann::json WebhookNotifier::FailoverBody(const FailoverEvent& e) {
  const bool finished = e.phase == "done" || e.phase == "failed";
  const std::string event = e.phase == "detected" ? "failover.started"
                            : finished            ? "failover.finished"
                                                  : "failover.phase";
  std::string text = "standby: " + e.instance_id + ": failover " + e.failover_id;
  if (event == "failover.started") {
    text += " started (" + e.trigger + ")";
  } else if (e.phase == "done") {
    text += " done: " + e.new_instance_id + " serves; MTTR " +
            HumanSeconds(static_cast<double>(e.total_ms) / 1000.0);
  } else if (e.phase == "failed") {
    text += " failed while " + e.failure_phase + ": " + SlackEscape(e.failure_reason);
  } else {
    text += ": " + e.phase;
  }
  nlohmann::json body = {{"event", event},
                         {"text", text},
                         {"instance", e.instance_id},
                         {"failover_id", e.failover_id},
                         {"trigger", e.trigger},
                         {"phase", e.phase},
                         {"started_at_ms", e.started_at}};
  if (finished) {
    body["success"] = e.success;
    body["mttr_ms"] = e.total_ms;
    if (!e.success) body["failure_reason"] = e.failure_reason;
  }
  return body;
}

void WebhookNotifier::FailoverPhase(const FailoverEvent& e) { Enqueue(FailoverBody(e)); }

nlohmann::json WebhookNotifier::FenceBody(const FailoverEvent& e) {
  std::string text = "standby: " + e.instance_id + ": failover " + e.failover_id + ": ";
  if (e.fence == "confirmed") {
    text += "the old host " + e.original_instance_id + " is fenced now";
  } else if (e.fence == "waiting") {
    text += "the new host waits until the old host " + e.original_instance_id +
            " is fenced (standby fence confirm " + e.failover_id + " once it is off)";
  } else {
    text += "the new host serves, but the old host " + e.original_instance_id +
            " is not fenced yet (retried)";
  }
  if (!e.fence_detail.empty()) text += ": " + SlackEscape(e.fence_detail);
  return {{"event", "failover.fence"},
          {"text", text},
          {"instance", e.instance_id},
          {"failover_id", e.failover_id},
          {"fence", e.fence},
          {"detail", e.fence_detail},
          {"old_instance", e.original_instance_id}};
}

void WebhookNotifier::FenceChanged(const FailoverEvent& e) { Enqueue(FenceBody(e)); }

void WebhookNotifier::SnapshotFinished(const std::string& instance, const SnapshotRow* taken,
                                       int failures, const std::string& error) {
  // Announced once per run of failures.
  if (taken || failures != options_.snapshot_failures) return;
  Enqueue({{"event", "snapshot.failing"},
           {"text", "standby: " + instance + ": " + std::to_string(failures) +
                        " periodic snapshots failed in a row; the last: " + SlackEscape(error)},
           {"instance", instance},
           {"consecutive_failures", failures},
           {"error", error}});
}

void WebhookNotifier::Enqueue(nlohmann::json body) {
  if (targets_.empty()) return;
  body["sent_by"] = "standby";
  body["at_ms"] = NowMillis(clock_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= options_.max_queued) {
      spdlog::warn("webhooks: {} deliveries queued; dropping the oldest", queue_.size());
      queue_.pop_front();
    }
    // A host's text may be any bytes: invalid UTF-8 is replaced, never thrown over.
    queue_.push_back(DumpJson(body));
  }
  wake_.notify_all();
}

void WebhookNotifier::Loop() {
  std::optional<std::chrono::steady_clock::time_point> drain_until;
  while (true) {
    std::string body;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, everything delivered
      if (stopping_) {
        // serve is exiting: what is left gets one try each, within kDrainFor in all.
        if (!drain_until) drain_until = std::chrono::steady_clock::now() + kDrainFor;
        if (std::chrono::steady_clock::now() > *drain_until) {
          spdlog::warn("webhooks: {} event(s) not delivered: serve stopped", queue_.size());
          return;
        }
      }
      body = std::move(queue_.front());
      queue_.pop_front();
    }
    for (const Target& t : targets_) Deliver(t, body);
  }
}

void WebhookNotifier::Deliver(const Target& t, const std::string& body) {
  HttpRequest r;
  r.method = "POST";
  r.tls = t.tls;
  r.host = t.host;
  r.port = t.port;
  r.target = t.path;
  r.body = body;
  r.timeout = options_.timeout;
  r.max_body = 64 << 10;
  r.headers = {{"Content-Type", "application/json"}, {"User-Agent", "standby-webhooks"}};
  if (!options_.secret.empty()) {
    r.headers.emplace_back("X-Standby-Signature",
                           "sha256=" + HexEncode(HmacSha256(options_.secret, body)));
  }
  auto backoff = std::chrono::milliseconds(1000);
  std::string last;
  for (int attempt = 1; attempt <= options_.attempts; ++attempt) {
    auto response = http_->Send(r);
    if (response && response->status >= 200 && response->status < 300) return;
    last = response ? "HTTP " + std::to_string(response->status) : response.error().message;
    // 4xx other than 408/429 will not change by retrying.
    if (response && response->status >= 400 && response->status < 500 && response->status != 408 &&
        response->status != 429) {
      break;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;  // serve is exiting: one try each, no waiting
    }
    if (attempt < options_.attempts) {
      clock_->SleepFor(backoff);
      backoff *= 2;
    }
  }
  spdlog::warn("webhook {}: not delivered ({})", Shown(t.url), last);
}

}  // namespace standby
