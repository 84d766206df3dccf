#include "cli/provider_access.h"

#include <unistd.h>

#include <climits>

#include "base/strings.h"
#include "cli/state_access.h"
#include "env/file_system.h"
#include "env/host_info.h"
#include "provider/local_market.h"
#include "provider/static_pool.h"
#include "provider/vast_provider.h"
#include "remote/ssh_identity.h"

namespace standby {
namespace {

Result<double> NumberFlag(const Invocation& inv, const std::string& flag, double fallback) {
  auto text = inv.Flag(flag);
  if (!text) return fallback;
  try {
    size_t used = 0;
    double value = std::stod(*text, &used);
    if (used != text->size() || value < 0) throw std::invalid_argument(*text);
    return value;
  } catch (const std::exception&) {
    return InvalidArgumentError("--" + flag + " wants a non-negative number, got '" + *text + "'");
  }
}

}  // namespace

std::vector<FlagSpec> ProviderFlagSpecs() {
  return {{"provider", true, "provider"},
          {"market", true, "market"},
          {"pool", true, "pool_file"},
          {"state-dir", true, "state_dir"}};
}

std::vector<FlagSpec> OfferFilterFlagSpecs() {
  return {{"gpu", true, ""},
          {"gpus", true, ""},
          {"min-gpu-ram", true, ""},
          {"max-price", true, ""},
          {"min-reliability", true, ""},
          {"min-download", true, ""},
          {"region", true, ""},
          {"limit", true, ""}};
}

Result<OfferFilter> OfferFilterFrom(const Invocation& inv) {
  OfferFilter f;
  if (auto gpus = inv.Flag("gpu")) {
    for (std::string& name : SplitString(*gpus, ',')) {
      if (!name.empty()) f.gpu_names.push_back(std::move(name));
    }
  }
  ASSIGN_OR_RETURN(double count, NumberFlag(inv, "gpus", 1));
  f.gpu_count = static_cast<int>(count);
  ASSIGN_OR_RETURN(f.min_gpu_ram_gb, NumberFlag(inv, "min-gpu-ram", 0));
  ASSIGN_OR_RETURN(f.max_price_per_hour, NumberFlag(inv, "max-price", 0));
  ASSIGN_OR_RETURN(f.min_reliability, NumberFlag(inv, "min-reliability", 0));
  if (f.min_reliability > 1) return InvalidArgumentError("--min-reliability is a share, 0..1");
  ASSIGN_OR_RETURN(f.min_download_mbps, NumberFlag(inv, "min-download", 0));
  f.region = inv.Flag("region").value_or("");
  ASSIGN_OR_RETURN(double limit, NumberFlag(inv, "limit", 64));
  f.limit = static_cast<int>(limit);
  return f;
}

Result<OpenedProvider> OpenProvider(const Invocation& inv) {
  OpenedProvider opened;
  opened.controller = inv.config.GetOr("controller", "");
  if (opened.controller.empty()) opened.controller = LocalHostname();
  std::string name = inv.config.GetOr("provider", "local");
  std::string state_dir = StateDir(inv);
  if (name == "local") {
    ASSIGN_OR_RETURN(MarketProfile profile, LoadMarketProfile(inv.config.GetOr("market", "fast")));
    ASSIGN_OR_RETURN(SshIdentity identity, EnsureControllerKey(FileSystem::Real(), state_dir));
    ASSIGN_OR_RETURN(std::string self, SelfPath());
    opened.provider =
        std::make_unique<LocalMarket>(std::move(profile), state_dir, self, identity.public_key);
    return opened;
  }
  if (name == "pool") {
    std::string file = inv.config.GetOr("pool_file", "");
    if (file.empty()) {
      return InvalidArgumentError("provider pool needs --pool FILE (or STANDBY_POOL_FILE)");
    }
    ASSIGN_OR_RETURN(auto pool, StaticPool::Open(file, state_dir));
    opened.provider = std::move(pool);
    return opened;
  }
  if (name == "vast") {
    VastOptions options;
    options.api_key = inv.config.GetOr("vast.api_key", "");
    options.base_url = inv.config.GetOr("vast.url", "https://console.vast.ai");
    ASSIGN_OR_RETURN(uint64_t spacing, inv.config.GetUint("vast.min_request_spacing_ms"));
    options.rate_limit.min_spacing = std::chrono::milliseconds(spacing);
    opened.http = MakeHttpClient();
    ASSIGN_OR_RETURN(auto vast, VastProvider::Create(options, opened.http.get(), Clock::Real()));
    opened.provider = std::move(vast);
    return opened;
  }
  return InvalidArgumentError("unknown provider '" + name + "' (expected local, vast or pool)");
}

}  // namespace standby
