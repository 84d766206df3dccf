#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "env/clock.h"
#include "env/random.h"
#include "provision/agent_probe.h"
#include "provision/ownership.h"
#include "provision/provider_settings.h"
#include "provision/provisioner.h"
#include "remote/transport_factory.h"
#include "state/state_store.h"

namespace standby {

// An instance as `standby instances` shows it: the provider's view and whether a controller
// owns it.
struct FleetInstance {
  Instance instance;
  bool owned = false;
};

// Everything that rents, lists and destroys machines of one provider account: the opened
// provider, the state store holding ownership and history (not owned), the controller's
// SSH transports, the readiness probe and the provisioner. The CLI's provider commands and
// the controller are clients of the same object. Thread-safe.
class Fleet {
 public:
  struct Parts {
    ProviderSettings provider;
    SshSettings ssh;
    RaceOptions race;
  };
  // From the configuration: provider, SSH and race settings.
  static Result<Parts> PartsFromConfig(const Config& config, Clock* clock);
  // Opens the provider; the first Provision prepares the account (registers the
  // controller's SSH key where the provider needs it). `state`, `clock` and `random` are
  // not owned.
  static Result<std::unique_ptr<Fleet>> Open(const Parts& parts, StateStore* state, Clock* clock,
                                             Random* random);
  // A fleet over an already opened provider and transports (tests, the simulation);
  // `public_key` is registered with the provider's account before the first rental (none:
  // the transports need no key).
  Fleet(OpenedProvider opened, std::unique_ptr<TransportFactory> transports, StateStore* state,
        Clock* clock, Random* random, RaceOptions race, std::string ssh_user,
        std::string public_key = "");

  Provider* provider() { return opened_.provider.get(); }
  const std::string& controller() const { return opened_.controller; }
  TransportFactory* transports() { return transports_.get(); }
  Provisioner* provisioner() { return provisioner_.get(); }
  StateStore* state() { return state_; }
  LocalMarket* local_market() { return opened_.local_market; }

  Result<std::vector<Offer>> Offers(const OfferFilter& filter);
  // Why `filter` matches no offer, as one line: "no offer on P matches --gpu 'x' (available:
  // A, B)" when no offer of that GPU exists at all, else that the other filters exclude them.
  Error NoOfferMatches(const OfferFilter& filter);
  Result<ProvisionOutcome> Provision(const ProvisionRequest& request);
  // Provisioner::LaunchAhead, after the same account preparation as Provision.
  Result<std::vector<HeadStartCandidate>> LaunchAhead(const ProvisionRequest& request, int count);
  // This controller's labelled instances (every standby-labelled one with `all`).
  Result<std::vector<FleetInstance>> Instances(bool all);
  // Destroys and confirms (DestroyInstance: already gone is an outcome, not an error), then
  // forgets the host-key pins of the instance and of its SSH endpoints.
  Result<DestroyOutcome> Destroy(const std::string& id);
  // Destroys this controller's labelled instances nobody owns, older than `grace`, after one
  // more try of every destroy-pending machine (unless `retry_pending` is false: the
  // controller's cleanup task does that itself).
  Result<ReapResult> Reap(std::chrono::seconds grace, bool retry_pending = true);
  // Removes the host-key pins of instance `id` and of its SSH `endpoints` (it is gone: a later
  // host at the same address is a new host). Failures are logged.
  void ForgetPins(const std::string& id, const std::vector<SshEndpoint>& endpoints);
  // Chaos on the local market: the host dies now (kInvalidArgument on other providers).
  Status Kill(const std::string& id);
  // A kill drill's failure: on the local market the host dies (Kill); on Vast.ai the
  // instance is destroyed through the API (the caller has the operator's consent). Other
  // providers cannot kill a machine: kInvalidArgument, and the caller marks the host lost.
  Status DrillKill(const std::string& id);
  ReadinessReport Readiness();
  void Blacklist(const std::string& machine_id, const std::string& reason);

 private:
  Status PrepareAccountOnce();

  OpenedProvider opened_;
  std::string public_key_;
  std::unique_ptr<TransportFactory> transports_;
  StateStore* state_;
  Clock* clock_;
  AgentHealthProbe probe_;
  std::unique_ptr<Provisioner> provisioner_;
  std::mutex mu_;
  bool account_prepared_ = false;
};

}  // namespace standby
