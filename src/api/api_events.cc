// GET /api/v1/events: the state store's event log as server-sent events (api_server.h;
// docs/manual.md, "Events").
#include <nlohmann/json.hpp>

#include "api/api_server.h"
#include "base/json_fields.h"
#include "base/strings.h"

namespace standby {
namespace {

constexpr int kMaxStreams = 16;
constexpr auto kPoll = std::chrono::milliseconds(250);
constexpr auto kHeartbeat = std::chrono::seconds(15);

std::string Frame(const EventRow& e) {
  nlohmann::json data = nlohmann::json::parse(e.data_json, nullptr, /*allow_exceptions=*/false);
  if (!data.is_object()) data = nlohmann::json::object();
  data["instance"] = e.instance_id;
  data["at_ms"] = e.at;
  // dump() escapes newlines: one data line per event.
  return "id: " + std::to_string(e.id) + "\nevent: " + e.type + "\ndata: " + DumpJson(data) +
         "\n\n";
}

}  // namespace

HttpServerResponse ApiServer::EventStream(const HttpServerRequest& request,
                                          const std::map<std::string, std::string>& query) {
  std::optional<int64_t> resume;
  auto header = request.headers.find("last-event-id");
  const std::string given = header != request.headers.end() ? header->second
                            : query.count("after")          ? query.at("after")
                                                            : "";
  if (!given.empty()) {
    auto id = ParseUint(given);
    if (!id) return Problem(400, "Bad Request", "Last-Event-ID is an event id (a number)");
    resume = static_cast<int64_t>(*id);
  }
  const std::string instance = query.count("instance") ? query.at("instance") : "";
  auto last = ctx_->state->LastEventId();
  if (!last) return Problem(503, "Service Unavailable", last.error().message);
  // A reconnect is owed what it missed, unless the log no longer holds it (pruned, or a
  // different database): then it is told to start over from the resources.
  bool reset = false;
  int64_t after = *last;
  if (resume) {
    auto oldest = ctx_->state->ListEventsAfter(0, 1);
    if (!oldest) return Problem(503, "Service Unavailable", oldest.error().message);
    const bool pruned = !oldest->empty() && oldest->front().id > *resume + 1;
    reset = *resume > *last || pruned;
    if (!reset) after = *resume;
  }
  if (++sse_clients_ > kMaxStreams) {
    --sse_clients_;
    return Problem(503, "Service Unavailable",
                   "too many event streams open (" + std::to_string(kMaxStreams) + ")");
  }
  HttpServerResponse out{
      200, {{"Content-Type", "text/event-stream; charset=utf-8"}, {"X-Accel-Buffering", "no"}}, ""};
  // Counted until the response is dropped, streamed or not (HEAD sends only headers).
  std::shared_ptr<void> counted(nullptr, [this](void*) { --sse_clients_; });
  out.stream = [this, after, reset, instance, counted,
                token = BearerOf(request)](HttpStream& s) mutable {
    // The id where the stream starts: a client that reconnects before any event came asks
    // for what followed it, not for "now" again.
    std::string first = "retry: 3000\nid: " + std::to_string(after) + "\n\n";
    if (reset) first += "event: reset\ndata: {}\n\n";
    if (!s.Write(first)) return;
    auto quiet_since = std::chrono::steady_clock::now();
    while (TokenStillValid(token)) {
      auto events = ctx_->state->ListEventsAfter(after, 100);
      std::string batch;
      if (events) {
        for (const EventRow& e : *events) {
          after = e.id;
          if (instance.empty() || e.instance_id == instance) batch += Frame(e);
        }
      }
      if (!batch.empty()) {
        if (!s.Write(batch)) return;
        quiet_since = std::chrono::steady_clock::now();
      } else if (std::chrono::steady_clock::now() - quiet_since >= kHeartbeat) {
        if (!s.Write(events ? "id: " + std::to_string(after) + "\n\n"
                            : ": the state store does not answer\n\n")) {
          return;
        }
        quiet_since = std::chrono::steady_clock::now();
      }
      if (events && events->size() == 100) continue;
      if (!s.Wait(kPoll)) return;
    }
  };
  return out;
}

}  // namespace standby
