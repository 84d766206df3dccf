#include "provider/vast_provider.h"

#include <nlohmann/json.hpp>

#include "base/json_fields.h"
#include "base/log.h"
#include "base/strings.h"
#include "env/loopback.h"
#include "provider/provider_metrics.h"
#include "snapshot/hash.h"

namespace standby {
namespace {

using nlohmann::json;

// The API's error text: "msg", "message", "detail" or "error", else the start of the body.
std::string ErrorText(const HttpResponse& r) {
  try {
    json j = ParseUntrustedJson(r.body);
    for (const char* key : {"msg", "message", "detail", "error"}) {
      if (j.contains(key) && j[key].is_string()) {
        return EscapeControl(j[key].get<std::string>().substr(0, 300));
      }
    }
  } catch (...) {
  }
  std::string text = r.body.substr(0, 160);
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text.empty() ? "HTTP " + std::to_string(r.status) : EscapeControl(text);
}

bool SuccessFalse(const HttpResponse& r) {
  try {
    json j = ParseUntrustedJson(r.body);
    return j.contains("success") && j["success"].is_boolean() && !j["success"].get<bool>();
  } catch (...) {
    return false;
  }
}

}  // namespace

Result<std::unique_ptr<VastProvider>> VastProvider::Create(VastOptions options, HttpClient* http,
                                                           Clock* clock) {
  if (options.api_key.empty()) {
    return PermissionDeniedError("no Vast.ai API key: set VAST_API_KEY in the environment or .env");
  }
  RegisterSecret(options.api_key);
  Endpoint endpoint;
  std::string rest = options.base_url;
  if (rest.starts_with("https://")) {
    rest = rest.substr(8);
  } else if (rest.starts_with("http://")) {
    endpoint.tls = false;
    endpoint.port = 80;
    rest = rest.substr(7);
  } else {
    return InvalidArgumentError("VAST_URL must start with https:// (got " + options.base_url + ")");
  }
  rest = rest.substr(0, rest.find('/'));
  size_t colon = rest.rfind(':');
  endpoint.host = rest.substr(0, colon);
  if (colon != std::string::npos) {
    auto port = ParseUint(rest.substr(colon + 1));
    if (!port || *port == 0 || *port > 65535) {
      return InvalidArgumentError("bad port in VAST_URL " + options.base_url);
    }
    endpoint.port = static_cast<uint16_t>(*port);
  }
  if (!endpoint.tls && !IsLoopbackAddress(endpoint.host)) {
    return InvalidArgumentError(
        "VAST_URL over plain http is allowed only to loopback (the API "
        "key would travel in the clear)");
  }
  return std::unique_ptr<VastProvider>(
      new VastProvider(std::move(options), std::move(endpoint), http, clock));
}

VastProvider::VastProvider(VastOptions options, Endpoint endpoint, HttpClient* http, Clock* clock)
    : options_(std::move(options)), endpoint_(std::move(endpoint)), http_(http), clock_(clock) {
  // The account is the key: every VastProvider of one key shares one limiter.
  limiter_ = SharedRateLimiter("vast:" + Sha256(options_.api_key).Hex().substr(0, 16) + "@" +
                                   endpoint_.host + ":" + std::to_string(endpoint_.port),
                               clock_, options_.rate_limit);
}

Result<HttpResponse> VastProvider::Call(const std::string& method, const std::string& path,
                                        const std::string& body) {
  const std::string what = "Vast.ai " + method + " " + path;
  std::optional<Error> last;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    limiter_->AwaitTurn();
    HttpRequest request;
    request.method = method;
    request.tls = endpoint_.tls;
    request.host = endpoint_.host;
    request.port = endpoint_.port;
    request.target = path;
    request.headers = {{"Authorization", "Bearer " + options_.api_key},
                       {"Accept", "application/json"}};
    if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    request.body = body;
    request.timeout = options_.timeout;
    auto response = http_->Send(request);
    CountProviderRequest("vast", method, response ? response->status : 0);
    if (!response) {
      last = response.error();
      limiter_->OnRateLimited(false);  // transport trouble: back off, not a 429
      continue;
    }
    if (response->status == 429) {
      auto pause = limiter_->OnRateLimited();
      spdlog::debug("{}: 429 ({}); pausing {} ms", what, ErrorText(*response), pause.count());
      last = ResourceExhaustedError(what + ": rate limited (" + ErrorText(*response) + ")");
      continue;
    }
    if (response->status >= 500) {
      last = UnavailableError(what + ": HTTP " + std::to_string(response->status) + " (" +
                              ErrorText(*response) + ")");
      limiter_->OnRateLimited(false);
      continue;
    }
    limiter_->OnSuccess();
    if (response->status == 401 || response->status == 403) {
      return PermissionDeniedError(what + ": the API key was refused (" + ErrorText(*response) +
                                   "); check VAST_API_KEY");
    }
    return response;
  }
  return Error{last->code,
               last->message + " after " + std::to_string(options_.max_attempts) + " attempts",
               true};
}

Result<std::vector<Offer>> VastProvider::SearchOffers(const OfferFilter& f) {
  json q = {{"verified", {{"eq", true}}},
            {"external", {{"eq", false}}},
            {"rentable", {{"eq", true}}},
            {"rented", {{"eq", false}}},
            {"direct_port_count", {{"gte", 1}}},
            {"type", "on-demand"},
            {"order", json::array({json::array({"dph_total", "asc"})})}};
  if (!f.gpu_names.empty()) q["gpu_name"] = {{"in", f.gpu_names}};
  if (f.gpu_count > 0) q["num_gpus"] = {{"eq", f.gpu_count}};
  if (f.min_gpu_ram_gb > 0) q["gpu_ram"] = {{"gte", f.min_gpu_ram_gb * 1000}};  // MB
  if (f.max_price_per_hour > 0) q["dph_total"] = {{"lte", f.max_price_per_hour}};
  if (f.min_reliability > 0) q["reliability"] = {{"gte", f.min_reliability}};
  if (f.min_download_mbps > 0) q["inet_down"] = {{"gte", f.min_download_mbps}};
  if (!f.region.empty()) q["geolocation"] = {{"eq", f.region}};
  if (f.limit > 0) q["limit"] = f.limit;
  ASSIGN_OR_RETURN(HttpResponse r, Call("POST", "/api/v0/bundles/", q.dump()));
  if (r.status != 200) {
    return UnavailableError("Vast.ai offer search: HTTP " + std::to_string(r.status) + " (" +
                            ErrorText(r) + ")");
  }
  return ParseVastOffers(r.body);
}

Result<Instance> VastProvider::Create(const Offer& offer, const LaunchSpec& spec) {
  RETURN_IF_ERROR(ValidateProviderId(offer.offer_id));
  json env = json::object();
  for (const auto& [k, v] : spec.env) env[k] = v;
  json body = {{"client_id", "me"},
               {"image", spec.image},
               {"disk", spec.disk_gb},
               {"label", spec.label},
               {"env", env},
               {"onstart", spec.onstart},
               {"runtype", "ssh_direc ssh_proxy"}};
  ASSIGN_OR_RETURN(HttpResponse r,
                   Call("PUT", "/api/v0/asks/" + offer.offer_id + "/", body.dump()));
  std::string text = ErrorText(r);
  if (r.status == 404 || r.status == 410 || text.find("no_such_ask") != std::string::npos) {
    return NotFoundError("offer " + offer.offer_id + " is no longer available (" + text + ")");
  }
  if (r.status != 200 || SuccessFalse(r)) {
    return UnavailableError("Vast.ai create from offer " + offer.offer_id + ": HTTP " +
                            std::to_string(r.status) + " (" + text + ")");
  }
  try {
    json j = ParseUntrustedJson(r.body);
    Instance instance;
    instance.id = std::to_string(j.at("new_contract").get<int64_t>());
    instance.machine_id = offer.machine_id;
    instance.state = InstanceState::kLoading;
    instance.gpu_name = offer.gpu_name;
    instance.price_per_hour = offer.price_per_hour;
    instance.label = spec.label;
    instance.created_unix_ms = clock_->Now() / 1'000'000;
    return instance;
  } catch (const std::exception& e) {
    return UnavailableError("Vast.ai create: no new_contract in the answer (" +
                            std::string(e.what()) + ")");
  }
}

Instance VastProvider::Checked(Instance instance) const {
  if (IsLoopbackAddress(endpoint_.host)) return instance;  // a local fake of the API
  std::erase_if(instance.ssh, [&](const SshEndpoint& e) { return IsInternalAddress(e.host); });
  std::erase_if(instance.exposed,
                [&](const auto& port) { return IsInternalAddress(port.second.host); });
  return instance;
}

Result<Instance> VastProvider::Get(const std::string& id) {
  RETURN_IF_ERROR(ValidateProviderId(id));
  ASSIGN_OR_RETURN(HttpResponse r, Call("GET", "/api/v0/instances/" + id + "/?owner=me", ""));
  if (r.status == 404) return NotFoundError("Vast.ai instance " + id + " not found");
  if (r.status != 200) {
    return UnavailableError("Vast.ai instance " + id + ": HTTP " + std::to_string(r.status));
  }
  ASSIGN_OR_RETURN(auto instance, ParseVastInstance(r.body));
  if (!instance) return NotFoundError("Vast.ai instance " + id + " not found");
  return Checked(std::move(*instance));
}

Result<std::vector<Instance>> VastProvider::List(const std::string& label_prefix) {
  ASSIGN_OR_RETURN(HttpResponse r, Call("GET", "/api/v0/instances/?owner=me", ""));
  if (r.status != 200) {
    return UnavailableError("Vast.ai instance list: HTTP " + std::to_string(r.status) + " (" +
                            ErrorText(r) + ")");
  }
  ASSIGN_OR_RETURN(auto all, ParseVastInstances(r.body));
  std::vector<Instance> out;
  for (Instance& i : all) {
    if (i.label.starts_with(label_prefix)) out.push_back(Checked(std::move(i)));
  }
  return out;
}

Status VastProvider::Destroy(const std::string& id) {
  RETURN_IF_ERROR(ValidateProviderId(id));
  ASSIGN_OR_RETURN(HttpResponse r, Call("DELETE", "/api/v0/instances/" + id + "/", "{}"));
  if (r.status == 404) return OkStatus();  // already gone
  if (r.status != 200 || SuccessFalse(r)) {
    return UnavailableError("Vast.ai destroy " + id + ": HTTP " + std::to_string(r.status) + " (" +
                            ErrorText(r) + ")");
  }
  return OkStatus();
}

Status VastProvider::EnsureSshKey(const std::string& public_key) {
  ASSIGN_OR_RETURN(HttpResponse listed, Call("GET", "/api/v0/ssh/", ""));
  if (listed.status == 200 &&
      listed.body.find(public_key.substr(0, public_key.rfind(' '))) != std::string::npos) {
    return OkStatus();
  }
  json body = {{"ssh_key", public_key}};
  ASSIGN_OR_RETURN(HttpResponse r, Call("POST", "/api/v0/ssh/", body.dump()));
  if (r.status != 200 || SuccessFalse(r)) {
    return UnavailableError("Vast.ai SSH key registration: HTTP " + std::to_string(r.status) +
                            " (" + ErrorText(r) + ")");
  }
  return OkStatus();
}

}  // namespace standby
