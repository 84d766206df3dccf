// The resources of the HTTP API (api_server.h; docs/manual.md, "The HTTP API").
#include "api/api_metrics.h"
#include "api/api_server.h"
#include "api/prometheus_text.h"
#include "base/json_fields.h"
#include "base/strings.h"
#include "failover/operations.h"
#include "provision/provisioner.h"
#include "provision/readiness_model.h"

namespace standby {
namespace {

using json = nlohmann::json;

HttpServerResponse Json(int status, const json& body) {
  return {status, {{"Content-Type", "application/json"}}, DumpJson(body) + "\n"};
}

HttpServerResponse FromError(const Error& e) {
  switch (e.code) {
    case ErrorCode::kNotFound:
      return Problem(404, "Not Found", e.message);
    case ErrorCode::kInvalidArgument:
      return Problem(400, "Bad Request", e.message);
    case ErrorCode::kConflict:
      return Problem(409, "Conflict", e.message);
    case ErrorCode::kUnavailable:
      return Problem(503, "Service Unavailable", e.message);
    default:
      return Problem(500, "Internal Server Error", e.message);
  }
}

HttpServerResponse MethodNotAllowed(const std::string& allow) {
  HttpServerResponse r = Problem(405, "Method Not Allowed", "this resource takes " + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

// A failover as the API shows it: every column, and the phases as a list.
json FailoverJson(const FailoverEvent& e) {
  json out = FailoverEventJson(e);
  json phases = json::array();
  json timings = json::parse(e.phase_timings_json.empty() ? "{}" : e.phase_timings_json, nullptr,
                             /*allow_exceptions=*/false);
  if (timings.is_object()) {
    for (const auto& [name, t] : timings.items()) {
      phases.push_back({{"name", name},
                        {"started_at_ms", t.value("start_ms", 0)},
                        {"ended_at_ms", t.value("end_ms", 0)},
                        {"duration_ms", t.value("ms", 0)},
                        {"status", t.value("status", "")},
                        {"error", t.value("error", "")}});
    }
  }
  out["phases"] = phases;
  return out;
}

json SnapshotJson(const SnapshotRow& s) {
  return {{"snapshot_id", s.snapshot_id},
          {"snapshot_type", s.snapshot_type},
          {"base_snapshot_id", s.base_snapshot_id},
          {"files_total", s.files_total},
          {"files_changed", s.files_changed},
          {"bytes_total", s.bytes_total},
          {"bytes_uploaded", s.bytes_uploaded},
          {"created_at_ms", s.created_at},
          {"duration_ms", s.duration_ms}};
}

// The provider's time-to-SSH-ready distribution (provision/readiness_model.h): quantiles,
// the race's round timeout (p90 + 10 s), and the curve of the share ready by t.
json ReadinessJson(const std::string& provider, const std::vector<ProvisioningAttempt>& attempts) {
  KaplanMeierModel model;
  LoadReadinessModel(attempts, provider, &model);
  constexpr size_t kMinSamples = 20;  // TimingsFrom's default
  const RaceTimings timings = TimingsFrom(model, kMinSamples);
  auto quantile = [&](double q) {
    auto v = model.Quantile(q);
    return v ? json(*v) : json(nullptr);
  };
  json curve = json::array();
  if (model.ReadySamples() > 0) {
    const double end = std::max(1.0, timings.round_timeout_s * 1.2);
    for (int i = 0; i <= 60; ++i) {
      const double t = end * i / 60;
      curve.push_back({{"t_s", t}, {"ready_share", 1.0 - model.Survival(t)}});
    }
  }
  return {{"provider", provider},
          {"samples", model.Samples()},
          {"ready_samples", model.ReadySamples()},
          {"never_ready_share",
           model.ReadySamples() > 0 ? json(model.NeverReadyShare()) : json(nullptr)},
          {"p50_s", quantile(0.5)},
          {"p90_s", quantile(0.9)},
          {"from_model", model.Samples() >= kMinSamples},
          {"min_samples", kMinSamples},
          {"hedge_after_s", timings.hedge_after_s},
          {"round_timeout_s", timings.round_timeout_s},
          {"curve", curve}};
}

}  // namespace

HttpServerResponse ApiServer::Route(const HttpServerRequest& request, const std::string& path,
                                    const std::map<std::string, std::string>& query) {
  const std::string& method = request.method;
  if (path == "/metrics") {
    if (method != "GET") return MethodNotAllowed("GET");
    auto text = RenderMetrics(ctx_, {.live = options_.live,
                                     .auth_failures = static_cast<double>(auth_failures_.load()),
                                     .sse_clients = static_cast<double>(sse_clients_.load())});
    if (!text) return FromError(text.error());
    return {200, {{"Content-Type", kPrometheusContentType}}, *text};
  }
  if (path == "/readyz") {
    if (method != "GET") return MethodNotAllowed("GET");
    auto listed = ctx_->state->ListProtectedInstances();
    if (!listed) return Problem(503, "Service Unavailable", listed.error().message);
    return Json(200, {{"status", "ready"}, {"state_store", ctx_->state->Describe()}});
  }
  const std::string prefix = "/api/v1/";
  if (path.rfind(prefix, 0) != 0) return Problem(404, "Not Found", "no resource at " + path);
  const std::vector<std::string> parts = SplitString(path.substr(prefix.size()), '/');
  for (const std::string& part : parts) {
    if (part.empty()) return Problem(404, "Not Found", "no resource at " + path);
  }
  const std::string& collection = parts[0];
  if (collection == "instances" && parts.size() == 1) {
    if (method != "GET") return MethodNotAllowed("GET");
    auto report = StatusReport(ctx_, "");
    return report ? Json(200, *report) : FromError(report.error());
  }
  if (collection == "instances" && parts.size() >= 2) {
    const std::string& name = parts[1];
    if (parts.size() == 2) {
      if (method != "GET") return MethodNotAllowed("GET");
      auto report = StatusReport(ctx_, name);
      if (!report) return FromError(report.error());
      json one = (*report)["instances"][0];
      one["now_ms"] = (*report)["now_ms"];
      return Json(200, one);
    }
    if (parts.size() == 3 && parts[2] == "snapshots") {
      if (method != "GET") return MethodNotAllowed("GET");
      auto instance = ctx_->state->GetProtectedInstance(name);
      if (!instance) return FromError(instance.error());
      if (!*instance) return Problem(404, "Not Found", "no protected instance named " + name);
      auto rows = ctx_->state->ListSnapshots(name);
      if (!rows) return FromError(rows.error());
      json list = json::array();
      for (auto it = rows->rbegin(); it != rows->rend(); ++it) list.push_back(SnapshotJson(*it));
      return Json(200, {{"instance", name}, {"snapshots", list}});
    }
    if (parts.size() == 3 && (parts[2] == "failover" || parts[2] == "snapshot")) {
      if (method != "POST") return MethodNotAllowed("POST");
      const bool failover = parts[2] == "failover";
      bool planned = false;
      if (!request.body.empty()) {
        json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
        if (!body.is_object() || (body.contains("planned") && !body["planned"].is_boolean())) {
          return Problem(400, "Bad Request", R"(the body is {"planned": true|false})");
        }
        planned = body.value("planned", false);
      }
      // The same rules as `standby failover`: a failover running is a 409 that says
      // already_failing_over with its id; requests made while none runs are queued, each
      // answered by the controller.
      auto submitted = SubmitRequest(ctx_, name, failover ? "failover" : "snapshot",
                                     planned ? Trigger::kPlanned : Trigger::kManual, planned);
      if (!submitted) return FromError(submitted.error());
      HttpServerResponse r = Json(
          202,
          {{"request_id", submitted->request_id}, {"instance", name}, {"kind", submitted->kind}});
      r.headers.emplace_back("Location", "/api/v1/requests/" + submitted->request_id);
      return r;
    }
  }
  if (collection == "readiness" && parts.size() == 1) {
    if (method != "GET") return MethodNotAllowed("GET");
    std::string provider = query.count("provider") ? query.at("provider") : "";
    if (provider.empty() && ctx_->fleet) provider = ctx_->fleet->provider()->Name();
    auto attempts = ctx_->state->ListProvisioningAttempts(provider);
    if (!attempts) return FromError(attempts.error());
    return Json(200, ReadinessJson(provider, *attempts));
  }
  if (collection == "events" && parts.size() == 1) {
    if (method != "GET") return MethodNotAllowed("GET");
    return EventStream(request, query);
  }
  if (collection == "requests" && parts.size() == 2) {
    if (method != "GET") return MethodNotAllowed("GET");
    auto row = ctx_->state->GetRequest(parts[1]);
    if (!row) return FromError(row.error());
    if (!*row) return Problem(404, "Not Found", "no request " + parts[1]);
    const RequestRow& r = **row;
    json out = {
        {"request_id", r.request_id}, {"instance", r.instance_id},     {"kind", r.kind},
        {"planned", r.planned},       {"created_at_ms", r.created_at}, {"taken_at_ms", r.taken_at},
        {"result", r.result},         {"failover_id", r.failover_id}};
    if (!r.failover_id.empty()) out["failover_url"] = "/api/v1/failovers/" + r.failover_id;
    return Json(200, out);
  }
  if (collection == "failovers" && parts.size() == 1) {
    if (method != "GET") return MethodNotAllowed("GET");
    const std::string instance = query.count("instance") ? query.at("instance") : "";
    uint64_t limit = 50;
    if (query.count("limit")) {
      auto n = ParseUint(query.at("limit"));
      if (!n || *n == 0 || *n > 500) return Problem(400, "Bad Request", "limit is 1 to 500");
      limit = *n;
    }
    std::optional<uint64_t> before;
    if (query.count("before")) {
      before = ParseUint(query.at("before"));
      if (!before) return Problem(400, "Bad Request", "before is a started_at in Unix ms");
    }
    auto events = ListEvents(ctx_, instance);  // newest first
    if (!events) return FromError(events.error());
    json list = json::array();
    int64_t next = 0;
    for (const FailoverEvent& e : *events) {
      if (before && e.started_at >= static_cast<int64_t>(*before)) continue;
      if (list.size() == limit) {
        next = list.back()["started_at"].get<int64_t>();
        break;
      }
      list.push_back(FailoverJson(e));
    }
    json out = {{"failovers", list}};
    if (next > 0) out["next_before"] = next;
    return Json(200, out);
  }
  if (collection == "failovers" && parts.size() == 2) {
    if (method != "GET") return MethodNotAllowed("GET");
    auto events = ctx_->state->ListFailoverEvents({.failover_id = parts[1]});
    if (!events) return FromError(events.error());
    if (events->empty()) return Problem(404, "Not Found", "no failover " + parts[1]);
    return Json(200, FailoverJson(events->front()));
  }
  return Problem(404, "Not Found", "no resource at " + path);
}

}  // namespace standby
