// The Vast.ai JSON dialect: offers and instances, trimmed and defaulted.

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/json_fields.h"
#include "provider/vast_provider.h"

namespace standby {
namespace {

using nlohmann::json;

std::string Trim(std::string s) {
  const char* space = " \t\r\n";
  s.erase(0, s.find_first_not_of(space));
  size_t end = s.find_last_not_of(space);
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

std::string Text(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return "";
  const json& v = j[key];
  if (v.is_string()) return Trim(v.get<std::string>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) return std::to_string(v.get<double>());
  return Trim(v.dump());
}

double Number(const json& j, const char* key, double fallback = 0) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  const json& v = j[key];
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    try {
      return std::stod(Trim(v.get<std::string>()));
    } catch (...) {
      return fallback;
    }
  }
  return fallback;
}

InstanceState StateFrom(const std::string& actual) {
  if (actual == "running") return InstanceState::kRunning;
  if (actual.empty() || actual == "loading" || actual == "created" || actual == "rebooting" ||
      actual == "restarting" || actual == "scheduling") {
    return InstanceState::kLoading;
  }
  if (actual == "exited" || actual == "stopped" || actual == "frozen")
    return InstanceState::kExited;
  if (actual == "offline") return InstanceState::kOffline;
  return InstanceState::kUnknown;
}

Instance InstanceFrom(const json& j) {
  Instance out;
  out.id = Text(j, "id");
  out.machine_id = Text(j, "machine_id");
  out.status_message = Text(j, "status_msg");
  out.state = StateFrom(Text(j, "actual_status"));
  out.gpu_name = Text(j, "gpu_name");
  out.price_per_hour = Number(j, "dph_total");
  out.label = Text(j, "label");
  out.created_unix_ms = static_cast<int64_t>(Number(j, "start_date") * 1000);
  // Direct SSH (the host's own address and the port mapped to 22) first, then the proxy.
  std::string ip = Text(j, "public_ipaddr");
  if (j.contains("ports") && j["ports"].is_object() && !ip.empty()) {
    for (const auto& [name, mapping] : j["ports"].items()) {
      if (!name.ends_with("/tcp") || !mapping.is_array() || mapping.empty()) continue;
      double inside = std::atof(name.c_str());
      double port = Number(mapping[0], "HostPort");
      if (inside <= 0 || inside >= 65536 || port <= 0 || port >= 65536) continue;
      out.exposed[static_cast<int>(inside)] = {ip, static_cast<uint16_t>(port), "direct"};
    }
    if (auto ssh = out.exposed.find(22); ssh != out.exposed.end()) out.ssh.push_back(ssh->second);
  }
  std::string proxy = Text(j, "ssh_host");
  double proxy_port = Number(j, "ssh_port");
  if (!proxy.empty() && proxy_port > 0 && proxy_port < 65536) {
    out.ssh.push_back({proxy, static_cast<uint16_t>(proxy_port), "proxy"});
  }
  return out;
}

}  // namespace

Result<std::vector<Offer>> ParseVastOffers(const std::string& body) {
  try {
    json j = ParseUntrustedJson(body);
    std::vector<Offer> out;
    if (!j.contains("offers") || j["offers"].is_null()) return out;
    for (const json& o : j["offers"]) {
      Offer offer;
      offer.offer_id = Text(o, "id");
      offer.machine_id = Text(o, "machine_id");
      offer.gpu_name = Text(o, "gpu_name");
      offer.gpu_count = static_cast<int>(Number(o, "num_gpus", 1));
      offer.gpu_ram_gb = Number(o, "gpu_ram") / 1000;  // MB
      offer.price_per_hour = Number(o, "dph_total");
      offer.reliability = Number(o, "reliability", Number(o, "reliability2"));
      offer.download_mbps = Number(o, "inet_down");
      offer.region = Text(o, "geolocation");
      if (!offer.offer_id.empty()) out.push_back(std::move(offer));
    }
    return out;
  } catch (const std::exception& e) {
    return UnavailableError(std::string("Vast.ai offers: unreadable answer (") + e.what() + ")");
  }
}

Result<std::vector<Instance>> ParseVastInstances(const std::string& body) {
  try {
    json j = ParseUntrustedJson(body);
    std::vector<Instance> out;
    // `instances: null` is an empty list; an answer without the key is not an answer (a
    // proxy's page, a changed API): read as "nothing listed" it would confirm a fence.
    if (!j.is_object() || !j.contains("instances")) {
      return UnavailableError("Vast.ai instances: the answer has no \"instances\" field");
    }
    if (j["instances"].is_null()) return out;
    for (const json& i : j["instances"]) out.push_back(InstanceFrom(i));
    return out;
  } catch (const std::exception& e) {
    return UnavailableError(std::string("Vast.ai instances: unreadable answer (") + e.what() + ")");
  }
}

Result<std::optional<Instance>> ParseVastInstance(const std::string& body) {
  try {
    json j = ParseUntrustedJson(body);
    if (!j.is_object() || !j.contains("instances")) {
      return UnavailableError("Vast.ai instance: the answer has no \"instances\" field");
    }
    if (j["instances"].is_null()) return std::nullopt;
    const json& i = j["instances"];
    if (i.is_array()) {
      if (i.empty()) return std::nullopt;
      return InstanceFrom(i[0]);
    }
    return InstanceFrom(i);
  } catch (const std::exception& e) {
    return UnavailableError(std::string("Vast.ai instance: unreadable answer (") + e.what() + ")");
  }
}

}  // namespace standby
