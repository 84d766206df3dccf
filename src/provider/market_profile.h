#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace standby {

// A GPU type on offer in a simulated market.
struct MarketGpu {
  std::string name;  // "RTX 4090"
  double gpu_ram_gb = 24;
  double price_per_hour = 0.4;
  double reliability = 0.98;
  double download_mbps = 800;
  int machines = 10;  // offers of this type
  std::string region = "US";
};

// The local simulated market: what is on offer and how rented machines behave. Boot time to
// SSH-ready is lognormal, given by its median and p90 (seconds, before `time_scale`).
struct MarketProfile {
  std::string name;
  std::vector<MarketGpu> gpus;
  double boot_median_s = 45;
  double boot_p90_s = 90;
  double never_ready_share = 0.15;       // stay "loading" forever
  double exit_during_boot_share = 0.05;  // go "exited" before ready
  double time_scale = 1.0;               // multiplies every boot time (0.05: 20× faster)
  double offline_lag_s = 5;              // a killed machine shows "offline" after this long
};

// "vast-like" (median 45 s, p90 90 s, 15% never ready, 5% exit: our assumption of Vast.ai,
// documented in docs/manual.md), "fast" (the same shape at time_scale 0.05, for tests and
// demos), or a TOML file (docs/manual.md, "Market profiles").
Result<MarketProfile> LoadMarketProfile(const std::string& name_or_file);
MarketProfile VastLikeProfile();

}  // namespace standby
