#include "provision/fleet.h"

#include "env/file_system.h"
#include "remote/ssh_identity.h"

namespace standby {

Result<Fleet::Parts> Fleet::PartsFromConfig(const Config& config, Clock* clock) {
  Parts parts;
  ASSIGN_OR_RETURN(parts.provider, ProviderSettingsFromConfig(config));
  // One key everywhere: what the hosts accept is what the transports log in with.
  ASSIGN_OR_RETURN(SshIdentity identity,
                   ControllerIdentityFromConfig(config, parts.provider.state_dir));
  parts.provider.authorized_key = identity.public_key;
  ASSIGN_OR_RETURN(parts.ssh, SshSettingsFromConfig(config, parts.provider.state_dir, clock));
  ASSIGN_OR_RETURN(parts.race, RaceOptionsFromConfig(config));
  return parts;
}

Result<std::unique_ptr<Fleet>> Fleet::Open(const Parts& parts, StateStore* state, Clock* clock,
                                           Random* random) {
  ASSIGN_OR_RETURN(OpenedProvider opened, OpenProvider(parts.provider, clock));
  RaceOptions race = TuneRaceFor(parts.race, opened);
  return std::make_unique<Fleet>(std::move(opened),
                                 std::make_unique<SshTransportFactory>(parts.ssh), state, clock,
                                 random, race, "root", parts.provider.authorized_key);
}

Fleet::Fleet(OpenedProvider opened, std::unique_ptr<TransportFactory> transports, StateStore* state,
             Clock* clock, Random* random, RaceOptions race, std::string ssh_user,
             std::string public_key)
    : opened_(std::move(opened)),
      public_key_(std::move(public_key)),
      transports_(std::move(transports)),
      state_(state),
      clock_(clock),
      probe_(transports_.get(), std::move(ssh_user)) {
  provisioner_ = std::make_unique<Provisioner>(opened_.provider.get(), &probe_, state_, clock_,
                                               random, std::move(race), opened_.controller);
}

Result<std::vector<Offer>> Fleet::Offers(const OfferFilter& filter) {
  return provider()->SearchOffers(filter);
}

Result<ProvisionOutcome> Fleet::Provision(const ProvisionRequest& request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!account_prepared_) {
      // The provider must hand new machines the controller's key (Vast: the account's keys).
      if (!public_key_.empty()) RETURN_IF_ERROR(provider()->PrepareAccount(public_key_));
      account_prepared_ = true;
    }
  }
  return provisioner_->Provision(request);
}

Result<std::vector<FleetInstance>> Fleet::Instances(bool all) {
  ASSIGN_OR_RETURN(auto instances,
                   provider()->List(all ? "standby:" : provisioner_->LabelPrefix()));
  ASSIGN_OR_RETURN(auto owned, OwnedInstances(state_, provider()->Name()));
  std::vector<FleetInstance> out;
  for (Instance& i : instances) {
    bool is_owned = owned.contains(i.id);
    out.push_back({std::move(i), is_owned});
  }
  return out;
}

Result<DestroyOutcome> Fleet::Destroy(const std::string& id) {
  return DestroyInstance(provider(), state_, id, clock_);
}

Result<ReapResult> Fleet::Reap(std::chrono::seconds grace) {
  return ReapUnowned(provider(), state_, provisioner_->LabelPrefix(), grace, clock_);
}

Status Fleet::Kill(const std::string& id) {
  if (opened_.local_market == nullptr) {
    return InvalidArgumentError("only local market instances can be killed");
  }
  return opened_.local_market->Kill(id);
}

ReadinessReport Fleet::Readiness() { return provisioner_->Readiness(); }

void Fleet::Blacklist(const std::string& machine_id, const std::string& reason) {
  provisioner_->Blacklist(machine_id, reason);
}

}  // namespace standby
