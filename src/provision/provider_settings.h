#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/result.h"
#include "config/config.h"
#include "env/clock.h"
#include "env/http_client.h"
#include "provider/local_market.h"
#include "provider/provider.h"

namespace standby {

// Which provider account to use and how, from the configuration.
struct ProviderSettings {
  std::string name = "local";   // local | vast | pool
  std::string state_dir;        // keys, pins, the local market's hosts, pool claims
  std::string controller;       // this controller's name in labels (default: the host name)
  std::string market = "fast";  // local: profile name or TOML file
  std::string market_dir;       // local: where hosts live (default <state_dir>/market)
  // The controller's public key: local hosts accept it; Vast registers it with the account.
  std::string authorized_key;
  std::string pool_file;  // pool: the TOML list of hosts
  std::string vast_url = "https://console.vast.ai";
  std::string vast_api_key;  // secret: from the environment or .env only
  std::chrono::milliseconds vast_min_spacing{200};
};

// The state directory: the `state_dir` setting, else ~/.local/state/standby.
std::string StateDirFromConfig(const Config& config);
Result<ProviderSettings> ProviderSettingsFromConfig(const Config& config);

// An opened provider with what keeps it working (its HTTP client).
struct OpenedProvider {
  std::unique_ptr<HttpClient> http;
  std::unique_ptr<Provider> provider;
  LocalMarket* local_market = nullptr;  // set for the local market (chaos: Kill)
  std::string controller;
  // The local market's profile (its boot times set the race's first timings).
  std::optional<MarketProfile> market_profile;
};

// Opens the provider `settings` names. The local market runs hosts with `standby_binary`
// and authorizes the controller's key (made under the state dir on first use).
Result<OpenedProvider> OpenProvider(const ProviderSettings& settings, Clock* clock);

}  // namespace standby
