#include "provider/simulated_market.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace standby {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr double kZ90 = 1.2815515655446004;  // standard normal 0.9 quantile

bool Matches(const Offer& o, const OfferFilter& f) {
  if (!GpuNameMatches(f, o.gpu_name)) return false;
  if (f.gpu_count > 0 && o.gpu_count < f.gpu_count) return false;
  if (o.gpu_ram_gb < f.min_gpu_ram_gb) return false;
  if (f.max_price_per_hour > 0 && o.price_per_hour > f.max_price_per_hour) return false;
  if (o.reliability < f.min_reliability) return false;
  if (o.download_mbps < f.min_download_mbps) return false;
  if (!f.region.empty() && o.region != f.region) return false;
  return true;
}

}  // namespace

SimulatedMarket::SimulatedMarket(MarketProfile profile, Clock* clock, uint64_t seed)
    : profile_(std::move(profile)), clock_(clock), rng_(seed) {
  std::uniform_real_distribution<double> jitter(0.9, 1.1);
  int machine = 50000;
  for (const MarketGpu& gpu : profile_.gpus) {
    for (int i = 0; i < gpu.machines; ++i, ++machine) {
      Offer o;
      o.offer_id = std::to_string(9000000 + machine);
      o.machine_id = std::to_string(machine);
      o.gpu_name = gpu.name;
      o.gpu_ram_gb = gpu.gpu_ram_gb;
      o.price_per_hour = std::round(gpu.price_per_hour * jitter(rng_) * 1000) / 1000;
      o.reliability = std::min(0.999, gpu.reliability + (jitter(rng_) - 1.05) * 0.3);
      o.download_mbps = std::round(gpu.download_mbps * jitter(rng_));
      o.region = gpu.region;
      machines_[o.offer_id] = {o, false};
    }
  }
}

Result<std::vector<Offer>> SimulatedMarket::SearchOffers(const OfferFilter& filter) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Offer> out;
  for (const auto& [id, m] : machines_) {
    if (!m.rented && Matches(m.offer, filter)) out.push_back(m.offer);
  }
  std::sort(out.begin(), out.end(),
            [](const Offer& a, const Offer& b) { return a.price_per_hour < b.price_per_hour; });
  if (filter.limit > 0 && out.size() > static_cast<size_t>(filter.limit)) out.resize(filter.limit);
  return out;
}

Result<Instance> SimulatedMarket::Create(const Offer& offer, const LaunchSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = machines_.find(offer.offer_id);
  if (it == machines_.end() || it->second.rented || it->second.stale) {
    return NotFoundError("offer " + offer.offer_id + " is no longer available (no_such_ask)");
  }
  it->second.rented = true;
  Sim sim;
  sim.created_ns = clock_->MonotonicNanos();
  sim.instance.id = std::to_string(next_instance_++);
  sim.instance.machine_id = it->second.offer.machine_id;
  sim.instance.gpu_name = it->second.offer.gpu_name;
  sim.instance.price_per_hour = it->second.offer.price_per_hour;
  sim.instance.label = spec.label;
  sim.instance.created_unix_ms = clock_->Now() / 1'000'000;
  if (it->second.scripted) {
    sim.ready_after_s = it->second.scripted->first;
    sim.exits_after_s = it->second.scripted->second;
  } else {
    Fate fate = DrawFateLocked();
    sim.ready_after_s = fate.ready_after_s;
    sim.exits_after_s = fate.exits_after_s;
  }
  Instance out = Snapshot(sim, sim.created_ns);
  instances_[sim.instance.id] = std::move(sim);
  return out;
}

SimulatedMarket::Fate SimulatedMarket::DrawFate() {
  std::lock_guard<std::mutex> lock(mu_);
  return DrawFateLocked();
}

void SimulatedMarket::ReseedFates(uint64_t seed) {
  std::lock_guard<std::mutex> lock(mu_);
  rng_.seed(seed);
}

SimulatedMarket::Fate SimulatedMarket::DrawFateLocked() {
  double fate = std::uniform_real_distribution<double>(0, 1)(rng_);
  double mu = std::log(profile_.boot_median_s);
  double sigma = (std::log(profile_.boot_p90_s) - mu) / kZ90;
  double boot = std::exp(mu + sigma * std::normal_distribution<double>(0, 1)(rng_));
  boot *= profile_.time_scale;
  if (fate < profile_.never_ready_share) return {kInfinity, -1};
  if (fate < profile_.never_ready_share + profile_.exit_during_boot_share) {
    return {kInfinity, boot * std::uniform_real_distribution<double>(0.2, 1.0)(rng_)};
  }
  return {boot, -1};
}

InstanceState SimulatedMarket::StateOf(const Sim& sim, int64_t now) const {
  // A killed machine looks as before until the provider notices, `offline_lag_s` later.
  if (sim.killed_ns >= 0 &&
      (now - sim.killed_ns) / 1e9 >= profile_.offline_lag_s * profile_.time_scale) {
    return InstanceState::kOffline;
  }
  double age = (now - sim.created_ns) / 1e9;
  if (sim.exits_after_s >= 0 && age >= sim.exits_after_s) return InstanceState::kExited;
  return age >= sim.ready_after_s ? InstanceState::kRunning : InstanceState::kLoading;
}

Instance SimulatedMarket::Snapshot(const Sim& sim, int64_t now) const {
  Instance out = sim.instance;
  out.state = StateOf(sim, now);
  out.status_message = out.state == InstanceState::kExited
                           ? "Error: container process exited unexpectedly"
                           : std::string(InstanceStateName(out.state));
  // Like Vast: the proxy endpoint is known from the start, the direct one once running.
  uint16_t port = static_cast<uint16_t>(20000 + std::stoi(out.id) % 20000);
  if (out.state == InstanceState::kRunning) out.ssh.push_back({"127.0.0.1", port, "direct"});
  out.ssh.push_back({"127.0.0.1", static_cast<uint16_t>(port + 1), "proxy"});
  return out;
}

Result<Instance> SimulatedMarket::Get(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = instances_.find(id);
  if (it == instances_.end() || it->second.destroyed_ns >= 0) {
    return NotFoundError("instance " + id + " not found");
  }
  return Snapshot(it->second, clock_->MonotonicNanos());
}

Result<std::vector<Instance>> SimulatedMarket::List(const std::string& label_prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Instance> out;
  int64_t now = clock_->MonotonicNanos();
  for (const auto& [id, sim] : instances_) {
    if (sim.destroyed_ns < 0 && sim.instance.label.starts_with(label_prefix)) {
      out.push_back(Snapshot(sim, now));
    }
  }
  return out;
}

Status SimulatedMarket::Destroy(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = instances_.find(id);
  if (it != instances_.end() && it->second.destroyed_ns < 0) {
    it->second.destroyed_ns = clock_->MonotonicNanos();
    // A destroyed instance frees its machine's offer, as on a real market; a machine that
    // died stays out.
    if (it->second.killed_ns < 0) {
      for (auto& [offer_id, m] : machines_) {
        if (m.offer.machine_id == it->second.instance.machine_id) m.rented = false;
      }
    }
  }
  return OkStatus();
}

void SimulatedMarket::Script(const std::string& machine_id, double ready_after_s,
                             double exits_after_s) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, m] : machines_) {
    if (m.offer.machine_id == machine_id) m.scripted = std::make_pair(ready_after_s, exits_after_s);
  }
}

void SimulatedMarket::MakeStale(const std::string& offer_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = machines_.find(offer_id); it != machines_.end()) it->second.stale = true;
}

Status SimulatedMarket::Kill(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = instances_.find(id);
  if (it == instances_.end() || it->second.destroyed_ns >= 0) {
    return NotFoundError("instance " + id + " not found");
  }
  if (it->second.killed_ns < 0) it->second.killed_ns = clock_->MonotonicNanos();
  return OkStatus();
}

std::map<std::string, double> SimulatedMarket::BilledSeconds() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, double> out;
  int64_t now = clock_->MonotonicNanos();
  for (const auto& [id, sim] : instances_) {
    int64_t end = sim.destroyed_ns >= 0 ? sim.destroyed_ns : now;
    out[id] = (end - sim.created_ns) / 1e9;
  }
  return out;
}

std::map<std::string, double> SimulatedMarket::RunningSeconds() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, double> out;
  int64_t now = clock_->MonotonicNanos();
  for (const auto& [id, sim] : instances_) {
    int64_t end = sim.destroyed_ns >= 0 ? sim.destroyed_ns : now;
    if (sim.killed_ns >= 0) end = std::min(end, sim.killed_ns);
    double alive = (end - sim.created_ns) / 1e9;
    out[id] = std::max(0.0, alive - sim.ready_after_s);  // infinity: never ran, 0
  }
  return out;
}

size_t SimulatedMarket::LiveInstances() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::count_if(instances_.begin(), instances_.end(),
                       [](const auto& entry) { return entry.second.destroyed_ns < 0; });
}

double SimulatedMarket::BootSecondsOf(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = instances_.find(id);
  return it == instances_.end() ? kInfinity : it->second.ready_after_s;
}

}  // namespace standby
