#pragma once

#include <memory>
#include <string>

#include "env/clock.h"
#include "env/http_client.h"
#include "provider/provider.h"
#include "provider/rate_limiter.h"

namespace standby {

struct VastOptions {
  std::string api_key;                               // VAST_API_KEY (a secret)
  std::string base_url = "https://console.vast.ai";  // VAST_URL; http:// only to loopback
  RateLimitOptions rate_limit;
  int max_attempts = 6;  // per request: 429s, 5xx and transport failures are retried
  std::chrono::milliseconds timeout{30000};
};

// Vast.ai's REST API (../shared/reference/vast-api.md): offers from POST /api/v0/bundles/,
// create with PUT /api/v0/asks/{id}/, one GET /api/v0/instances/ per poll, destroy with
// DELETE (404 = already gone). Every request goes through the account's shared
// RateLimiter. Strings from the API are trimmed; `instances: null` is an empty list.
class VastProvider : public Provider {
 public:
  static Result<std::unique_ptr<VastProvider>> Create(VastOptions options, HttpClient* http,
                                                      Clock* clock);

  std::string Name() const override { return "vast"; }
  Result<std::vector<Offer>> SearchOffers(const OfferFilter& filter) override;
  Result<Instance> Create(const Offer& offer, const LaunchSpec& spec) override;
  Result<Instance> Get(const std::string& id) override;
  Result<std::vector<Instance>> List(const std::string& label_prefix) override;
  Status Destroy(const std::string& id) override;
  int64_t RateLimitHits() const override { return limiter_->hits(); }

  // Registers `public_key` with the account unless it is there already (new instances get
  // the account's keys).
  Status EnsureSshKey(const std::string& public_key);
  Status PrepareAccount(const std::string& ssh_public_key) override {
    return EnsureSshKey(ssh_public_key);
  }

 private:
  struct Endpoint {
    bool tls = true;
    std::string host;
    uint16_t port = 443;
  };
  VastProvider(VastOptions options, Endpoint endpoint, HttpClient* http, Clock* clock);
  // Without SSH addresses and ports on this machine or its link, unless the API itself is
  // local (a test's fake): a marketplace host must not point us at ourselves.
  Instance Checked(Instance instance) const;
  Result<HttpResponse> Call(const std::string& method, const std::string& path,
                            const std::string& body);

  VastOptions options_;
  Endpoint endpoint_;
  HttpClient* http_;
  Clock* clock_;
  std::shared_ptr<RateLimiter> limiter_;
};

// Parsing of the API's JSON (exposed for tests).
Result<std::vector<Offer>> ParseVastOffers(const std::string& body);
Result<std::vector<Instance>> ParseVastInstances(const std::string& body);
// GET /instances/{id}/ answers {"instances": {...}} — one object, or null.
Result<std::optional<Instance>> ParseVastInstance(const std::string& body);

}  // namespace standby
