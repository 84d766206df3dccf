#include "provision/provider_settings.h"

#include <cstdlib>

#include "env/file_system.h"
#include "env/host_info.h"
#include "provider/static_pool.h"
#include "provider/vast_provider.h"
#include "remote/ssh_identity.h"

namespace standby {

std::string StateDirFromConfig(const Config& config) {
  if (auto dir = config.Get("state_dir"); dir && !dir->empty()) return *dir;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.local/state/standby";
}

Result<ProviderSettings> ProviderSettingsFromConfig(const Config& config) {
  ProviderSettings s;
  s.name = config.GetOr("provider", "local");
  if (s.name != "local" && s.name != "vast" && s.name != "pool") {
    return InvalidArgumentError("unknown provider '" + s.name + "' (expected local, vast or pool)");
  }
  s.state_dir = StateDirFromConfig(config);
  s.controller = config.GetOr("controller", "");
  if (s.controller.empty()) s.controller = LocalHostname();
  s.market = config.GetOr("market", "fast");
  s.market_dir = config.GetOr("market_dir", "");
  if (s.market_dir.empty()) s.market_dir = JoinPath(s.state_dir, "market");
  s.pool_file = config.GetOr("pool_file", "");
  s.vast_url = config.GetOr("vast.url", "https://console.vast.ai");
  s.vast_api_key = config.GetOr("vast.api_key", "");
  ASSIGN_OR_RETURN(uint64_t spacing, config.GetUint("vast.min_request_spacing_ms"));
  s.vast_min_spacing = std::chrono::milliseconds(spacing);
  return s;
}

Result<OpenedProvider> OpenProvider(const ProviderSettings& settings, Clock* clock) {
  OpenedProvider opened;
  opened.controller = settings.controller;
  if (settings.name == "local") {
    ASSIGN_OR_RETURN(MarketProfile profile, LoadMarketProfile(settings.market));
    if (settings.authorized_key.empty()) {
      return InvalidArgumentError("the local market needs the controller's public key");
    }
    ASSIGN_OR_RETURN(std::string self, SelfPath());
    opened.market_profile = profile;
    auto market = std::make_unique<LocalMarket>(std::move(profile), settings.market_dir, self,
                                                settings.authorized_key);
    opened.local_market = market.get();
    opened.provider = std::move(market);
    return opened;
  }
  if (settings.name == "pool") {
    if (settings.pool_file.empty()) {
      return InvalidArgumentError("provider pool needs --pool FILE (or STANDBY_POOL_FILE)");
    }
    ASSIGN_OR_RETURN(auto pool, StaticPool::Open(settings.pool_file, settings.state_dir));
    opened.provider = std::move(pool);
    return opened;
  }
  VastOptions options;
  options.api_key = settings.vast_api_key;
  options.base_url = settings.vast_url;
  options.rate_limit.min_spacing = settings.vast_min_spacing;
  opened.http = MakeHttpClient();
  ASSIGN_OR_RETURN(auto vast, VastProvider::Create(options, opened.http.get(), clock));
  opened.provider = std::move(vast);
  return opened;
}

}  // namespace standby
