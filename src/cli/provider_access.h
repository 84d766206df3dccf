#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "env/http_client.h"
#include "provider/provider.h"

namespace standby {

// Flags shared by the provider commands: --provider, --market, --pool.
std::vector<FlagSpec> ProviderFlagSpecs();
// Filter flags of `offers` and `provision`: --gpu NAME[,NAME], --gpus N, --min-gpu-ram GB,
// --max-price USD, --min-reliability R, --min-download MBPS, --region R, --limit N.
std::vector<FlagSpec> OfferFilterFlagSpecs();
Result<OfferFilter> OfferFilterFrom(const Invocation& inv);

// The provider the configuration names, with what it needs (HTTP client, keys) kept alive
// inside it.
struct OpenedProvider {
  std::unique_ptr<HttpClient> http;
  std::unique_ptr<Provider> provider;
  std::string controller;  // this controller's name in labels
};
Result<OpenedProvider> OpenProvider(const Invocation& inv);

}  // namespace standby
