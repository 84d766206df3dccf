#pragma once

#include <memory>
#include <string>
#include <vector>

#include "provider/provider.h"

namespace standby {

// One machine the user owns and keeps as a standby.
struct PoolHost {
  std::string ssh;  // "user@host:port"
  std::string gpu_name;
  double price_per_hour = 0;
};

// The user's own standby machines, listed in a TOML file:
//   [[host]]
//   ssh = "root@10.0.0.5:22"
//   gpu_name = "RTX 4090"
// "Create" claims a free host, "destroy" releases it; claims are kept in
// <state_dir>/pool/claims.json (written atomically under an flock), so concurrent commands
// never hand out one host twice. Each host is its own offer and machine (id "pool-N").
class StaticPool : public Provider {
 public:
  static Result<std::unique_ptr<StaticPool>> Open(const std::string& config_file,
                                                  const std::string& state_dir);
  std::string Name() const override { return "pool"; }
  Result<std::vector<Offer>> SearchOffers(const OfferFilter& filter) override;
  Result<Instance> Create(const Offer& offer, const LaunchSpec& spec) override;
  Result<Instance> Get(const std::string& id) override;
  Result<std::vector<Instance>> List(const std::string& label_prefix) override;
  // Releases the claim only: the machine keeps running (fencing stops its workload first).
  Status Destroy(const std::string& id) override;
  bool DestroyStopsMachine() const override { return false; }

 private:
  StaticPool(std::vector<PoolHost> hosts, std::string claims_path)
      : hosts_(std::move(hosts)), claims_path_(std::move(claims_path)) {}
  Instance InstanceOf(size_t index, const std::string& label) const;

  std::vector<PoolHost> hosts_;
  std::string claims_path_;
};

}  // namespace standby
