#include "provider/static_pool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "env/clock.h"
#include "env/file_system.h"
#include "remote/ssh_session.h"

namespace standby {
namespace {

using nlohmann::json;

// Holds an exclusive flock on `path` + ".lock" for its lifetime.
class ClaimsLock {
 public:
  explicit ClaimsLock(const std::string& path) {
    fd_ = ::open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~ClaimsLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

Result<json> ReadClaims(const std::string& path) {
  auto text = ReadFileToString(FileSystem::Real(), path);
  if (!text) {
    if (text.error().code == ErrorCode::kNotFound) return json::object();
    return text.error();
  }
  try {
    return json::parse(*text);
  } catch (const std::exception& e) {
    return CorruptionError(path + ": " + e.what());
  }
}

size_t IndexOf(const std::string& id) {
  return id.starts_with("pool-") ? std::strtoul(id.c_str() + 5, nullptr, 10) : SIZE_MAX;
}

}  // namespace

Result<std::unique_ptr<StaticPool>> StaticPool::Open(const std::string& config_file,
                                                     const std::string& state_dir) {
  std::vector<PoolHost> hosts;
  try {
    toml::table t = toml::parse_file(config_file);
    const toml::array* list = t["host"].as_array();
    if (list == nullptr || list->empty()) {
      return InvalidArgumentError(config_file + ": no [[host]] entries");
    }
    for (const toml::node& node : *list) {
      const toml::table* h = node.as_table();
      if (h == nullptr) return InvalidArgumentError(config_file + ": [[host]] must be tables");
      PoolHost host;
      host.ssh = (*h)["ssh"].value_or(std::string());
      auto target = ParseSshTarget(host.ssh);
      if (!target) return InvalidArgumentError(config_file + ": " + target.error().message);
      host.gpu_name = (*h)["gpu_name"].value_or(std::string("unknown"));
      host.price_per_hour = (*h)["price_per_hour"].value_or(0.0);
      hosts.push_back(std::move(host));
    }
  } catch (const toml::parse_error& e) {
    return InvalidArgumentError("pool file " + config_file + ": " + std::string(e.description()));
  }
  std::string dir = JoinPath(state_dir, "pool");
  RETURN_IF_ERROR(MakeDirs(FileSystem::Real(), dir, 0700));
  return std::unique_ptr<StaticPool>(
      new StaticPool(std::move(hosts), JoinPath(dir, "claims.json")));
}

Instance StaticPool::InstanceOf(size_t index, const std::string& label) const {
  const PoolHost& h = hosts_[index];
  Instance out;
  out.id = "pool-" + std::to_string(index);
  out.machine_id = out.id;
  out.state = InstanceState::kRunning;  // the user's machine: up unless the probe says not
  out.status_message = "claimed";
  out.gpu_name = h.gpu_name;
  out.price_per_hour = h.price_per_hour;
  out.label = label;
  if (auto target = ParseSshTarget(h.ssh)) {
    out.ssh.push_back({target->host, target->port, "direct", target->user});
  }
  return out;
}

Result<std::vector<Offer>> StaticPool::SearchOffers(const OfferFilter& filter) {
  ClaimsLock lock(claims_path_);
  ASSIGN_OR_RETURN(json claims, ReadClaims(claims_path_));
  std::vector<Offer> out;
  for (size_t i = 0; i < hosts_.size(); ++i) {
    std::string id = "pool-" + std::to_string(i);
    if (claims.contains(id)) continue;
    if (!GpuNameMatches(filter, hosts_[i].gpu_name)) continue;
    Offer o;
    o.offer_id = id;
    o.machine_id = id;
    o.gpu_name = hosts_[i].gpu_name;
    o.price_per_hour = hosts_[i].price_per_hour;
    o.reliability = 1.0;
    out.push_back(std::move(o));
  }
  return out;
}

Result<Instance> StaticPool::Create(const Offer& offer, const LaunchSpec& spec) {
  ClaimsLock lock(claims_path_);
  if (!lock.ok()) return ErrnoError(errno, "lock " + claims_path_);
  ASSIGN_OR_RETURN(json claims, ReadClaims(claims_path_));
  size_t index = IndexOf(offer.offer_id);
  if (index >= hosts_.size() || claims.contains(offer.offer_id)) {
    return NotFoundError("pool host " + offer.offer_id + " is not free");
  }
  claims[offer.offer_id] = {{"label", spec.label},
                            {"claimed_unix_ms", Clock::Real()->Now() / 1'000'000}};
  RETURN_IF_ERROR(WriteFileAtomically(FileSystem::Real(), claims_path_, claims.dump(2), 0600));
  return InstanceOf(index, spec.label);
}

Result<Instance> StaticPool::Get(const std::string& id) {
  ClaimsLock lock(claims_path_);
  ASSIGN_OR_RETURN(json claims, ReadClaims(claims_path_));
  size_t index = IndexOf(id);
  if (index >= hosts_.size() || !claims.contains(id)) {
    return NotFoundError("pool host " + id + " is not claimed");
  }
  return InstanceOf(index, claims[id].value("label", ""));
}

Result<std::vector<Instance>> StaticPool::List(const std::string& label_prefix) {
  ClaimsLock lock(claims_path_);
  ASSIGN_OR_RETURN(json claims, ReadClaims(claims_path_));
  std::vector<Instance> out;
  for (const auto& [id, claim] : claims.items()) {
    size_t index = IndexOf(id);
    std::string label = claim.value("label", "");
    if (index < hosts_.size() && label.starts_with(label_prefix)) {
      out.push_back(InstanceOf(index, label));
    }
  }
  return out;
}

Status StaticPool::Destroy(const std::string& id) {
  ClaimsLock lock(claims_path_);
  ASSIGN_OR_RETURN(json claims, ReadClaims(claims_path_));
  if (!claims.contains(id)) return OkStatus();
  claims.erase(id);
  return WriteFileAtomically(FileSystem::Real(), claims_path_, claims.dump(2), 0600);
}

}  // namespace standby
