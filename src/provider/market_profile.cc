#include "provider/market_profile.h"

#include <toml++/toml.h>

namespace standby {

MarketProfile VastLikeProfile() {
  MarketProfile p;
  p.name = "vast-like";
  p.gpus = {{"RTX 4090", 24, 0.40, 0.985, 900, 24, "US"},
            {"RTX 3090", 24, 0.22, 0.975, 600, 24, "EU"},
            {"A100 SXM4", 80, 1.10, 0.995, 2000, 8, "US"},
            {"H100 SXM", 80, 2.20, 0.997, 4000, 8, "US"}};
  return p;
}

namespace {

Result<MarketProfile> ParseProfile(const toml::table& t, const std::string& file) {
  MarketProfile p = VastLikeProfile();
  p.name = t["name"].value_or(file);
  p.boot_median_s = t["boot_median_s"].value_or(p.boot_median_s);
  p.boot_p90_s = t["boot_p90_s"].value_or(p.boot_p90_s);
  p.never_ready_share = t["never_ready_share"].value_or(p.never_ready_share);
  p.exit_during_boot_share = t["exit_during_boot_share"].value_or(p.exit_during_boot_share);
  p.time_scale = t["time_scale"].value_or(p.time_scale);
  p.offline_lag_s = t["offline_lag_s"].value_or(p.offline_lag_s);
  if (const toml::array* gpus = t["gpu"].as_array()) {
    p.gpus.clear();
    for (const toml::node& node : *gpus) {
      const toml::table* g = node.as_table();
      if (g == nullptr) return InvalidArgumentError(file + ": [[gpu]] entries must be tables");
      MarketGpu gpu;
      gpu.name = (*g)["name"].value_or(std::string());
      if (gpu.name.empty()) return InvalidArgumentError(file + ": a [[gpu]] entry has no name");
      gpu.gpu_ram_gb = (*g)["gpu_ram_gb"].value_or(gpu.gpu_ram_gb);
      gpu.price_per_hour = (*g)["price_per_hour"].value_or(gpu.price_per_hour);
      gpu.reliability = (*g)["reliability"].value_or(gpu.reliability);
      gpu.download_mbps = (*g)["download_mbps"].value_or(gpu.download_mbps);
      gpu.machines = (*g)["machines"].value_or(gpu.machines);
      gpu.region = (*g)["region"].value_or(gpu.region);
      p.gpus.push_back(gpu);
    }
  }
  if (p.boot_median_s <= 0 || p.boot_p90_s < p.boot_median_s) {
    return InvalidArgumentError(file + ": need 0 < boot_median_s <= boot_p90_s");
  }
  if (p.never_ready_share < 0 || p.exit_during_boot_share < 0 ||
      p.never_ready_share + p.exit_during_boot_share > 1) {
    return InvalidArgumentError(file +
                                ": never_ready_share and exit_during_boot_share must be "
                                "shares that add up to at most 1");
  }
  if (p.time_scale <= 0) return InvalidArgumentError(file + ": time_scale must be > 0");
  return p;
}

}  // namespace

Result<MarketProfile> LoadMarketProfile(const std::string& name_or_file) {
  if (name_or_file.empty() || name_or_file == "vast-like") return VastLikeProfile();
  if (name_or_file == "fast") {
    MarketProfile p = VastLikeProfile();
    p.name = "fast";
    p.time_scale = 0.05;
    p.offline_lag_s = 0.5;
    return p;
  }
  try {
    toml::table t = toml::parse_file(name_or_file);
    return ParseProfile(t, name_or_file);
  } catch (const toml::parse_error& e) {
    return InvalidArgumentError("market profile " + name_or_file + ": " +
                                std::string(e.description()) + " (or not one of: vast-like, fast)");
  }
}

}  // namespace standby
