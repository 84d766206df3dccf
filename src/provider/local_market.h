#pragma once

#include <memory>
#include <string>

#include "provider/market_profile.h"
#include "provider/provider.h"
#include "provider/simulated_market.h"

namespace standby {

// The embedded default provider: a simulated GPU market whose instances are real local
// hosts. Each instance is a directory under <market_dir>/hosts/<id>/ (home/,
// workspace/, an sshd config and key) with a supervisor process (`standby market-host`)
// that waits out the instance's drawn boot time, then serves SSH on a loopback port — or
// never does, or "exits" during boot, as the profile says. Hosts outlive the command that
// created them; any later command lists, probes, kills or destroys them. Thread-safe.
class LocalMarket : public Provider {
 public:
  // `standby_binary` runs the supervisors; `authorized_key` is the controller's public key.
  LocalMarket(MarketProfile profile, std::string market_dir, std::string standby_binary,
              std::string authorized_key);

  std::string Name() const override { return "local"; }
  Result<std::vector<Offer>> SearchOffers(const OfferFilter& filter) override;
  Result<Instance> Create(const Offer& offer, const LaunchSpec& spec) override;
  Result<Instance> Get(const std::string& id) override;
  Result<std::vector<Instance>> List(const std::string& label_prefix) override;
  Status Destroy(const std::string& id) override;

  // Chaos: the host's sshd and every process it started die now; the instance reads
  // "offline" after the profile's offline lag.
  Status Kill(const std::string& id);
  std::string HostDir(const std::string& id) const;

 private:
  Result<Instance> Load(const std::string& id) const;

  MarketProfile profile_;
  std::string hosts_dir_;
  std::string standby_binary_;
  std::string authorized_key_;
  std::unique_ptr<SimulatedMarket> offers_;  // the profile's offers (same in every process), fates
};

// The path every local host sees as its own workspace.
inline constexpr const char* kHostWorkspace = "/workspace";

// Moves the calling process into a new mount namespace where <host_dir>/workspace is bound
// at /workspace (created on the machine if missing). kPermissionDenied, naming what to do
// instead, where namespaces are unavailable (not root, no CAP_SYS_ADMIN).
Status EnterHostMountNamespace(const std::string& host_dir);

// The supervisor of one local host (the hidden `standby market-host DIR` command): becomes
// a child subreaper so that everything started on the host stays in its process tree,
// waits for the boot time, runs sshd, and exits when sshd does. Returns an exit status.
int RunLocalHost(const std::string& host_dir);

}  // namespace standby
