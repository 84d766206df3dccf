#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace standby {

// What to rent. Zero/empty fields do not filter.
struct OfferFilter {
  std::vector<std::string> gpu_names;  // any of these ("RTX 4090"); empty = any
  int gpu_count = 1;
  double min_gpu_ram_gb = 0;
  double max_price_per_hour = 0;
  double min_reliability = 0;
  double min_download_mbps = 0;
  std::string region;  // country code or provider region ("US", "eu-west")
  int limit = 64;
};

struct Offer {
  std::string offer_id;
  std::string machine_id;
  std::string gpu_name;
  int gpu_count = 1;
  double gpu_ram_gb = 0;
  double price_per_hour = 0;
  double reliability = 0;  // 0..1
  double download_mbps = 0;
  std::string region;
};

struct LaunchSpec {
  std::string image = "vastai/base-image:cuda-12.4.1-auto";
  int disk_gb = 50;
  std::vector<std::pair<std::string, std::string>> env;
  std::string onstart;  // shell script run at boot
  std::string label;    // names the controller and purpose (the leak guard lists by it)
};

enum class InstanceState { kLoading, kRunning, kExited, kOffline, kUnknown };
std::string_view InstanceStateName(InstanceState state);

struct SshEndpoint {
  std::string host;
  uint16_t port = 22;
  std::string kind;  // "direct" or "proxy"
  std::string user;  // empty: the provider's usual ("root" on Vast)
};

struct Instance {
  std::string id;
  std::string machine_id;
  InstanceState state = InstanceState::kUnknown;
  std::string status_message;
  std::vector<SshEndpoint> ssh;  // preferred first (direct before proxy)
  // TCP ports of the machine reachable from outside: container port → public address
  // (Vast's `ports` mapping). Empty where the provider exposes nothing.
  std::map<int, SshEndpoint> exposed;
  std::string gpu_name;
  double price_per_hour = 0;
  std::string label;
  int64_t created_unix_ms = 0;
};

// Provider-side ids (instances, offers) become URL segments and directory names: 1–128 of
// [A-Za-z0-9._-], not starting with '.'. Anything else ("../x", "1/2") is kInvalidArgument.
Status ValidateProviderId(std::string_view id);

// Whether `gpu_name` is one `filter` asks for (any when it names none). Spelling is loose:
// case, spaces, '-' and '_' are ignored, so "rtx 4090", "RTX4090" and "rtx_4090" all ask
// for "RTX 4090".
bool GpuNameMatches(const OfferFilter& filter, std::string_view gpu_name);

// A GPU marketplace account (Vast.ai, a static pool of owned hosts, the local simulated
// market). Implementations are thread-safe: a race calls them from several threads.
class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string Name() const = 0;
  virtual Result<std::vector<Offer>> SearchOffers(const OfferFilter& filter) = 0;
  // kNotFound when the offer was taken meanwhile (stale): try the next one.
  virtual Result<Instance> Create(const Offer& offer, const LaunchSpec& spec) = 0;
  // kNotFound when the instance does not exist (destroyed, or never created).
  virtual Result<Instance> Get(const std::string& id) = 0;
  // Instances whose label starts with `label_prefix` ("" = all), in one request.
  virtual Result<std::vector<Instance>> List(const std::string& label_prefix) = 0;
  // Idempotent: an instance already gone is success.
  virtual Status Destroy(const std::string& id) = 0;
  // Whether Destroy stops the machine (its workload dies with it). A static pool's
  // "destroy" only releases the claim: the machine, and whatever runs on it, keeps running.
  virtual bool DestroyStopsMachine() const { return true; }
  // Times the provider answered "too many requests" (429) since creation.
  virtual int64_t RateLimitHits() const { return 0; }
  // Makes the account ready to rent machines the controller can reach: registers
  // `ssh_public_key` where the provider needs it (Vast: the account's SSH keys). Idempotent.
  virtual Status PrepareAccount(const std::string& ssh_public_key) {
    (void)ssh_public_key;
    return OkStatus();
  }
};

}  // namespace standby
