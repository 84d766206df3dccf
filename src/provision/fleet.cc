#include "provision/fleet.h"

#include <set>

#include "base/log.h"
#include "base/strings.h"
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

Error Fleet::NoOfferMatches(const OfferFilter& filter) {
  const std::string where = "no offer on " + provider()->Name();
  const std::string asked = JoinStrings(filter.gpu_names, ", ");
  if (!filter.gpu_names.empty()) {
    OfferFilter gpu_only;
    gpu_only.gpu_names = filter.gpu_names;
    auto of_gpu = provider()->SearchOffers(gpu_only);
    if (of_gpu && !of_gpu->empty()) {
      return NotFoundError(where + " matches the filter: " + std::to_string(of_gpu->size()) +
                           " offer(s) of --gpu '" + asked +
                           "' exist, but none within the other filters (--gpus, --max-price, "
                           "--min-reliability, --region, ...); loosen them");
    }
  }
  auto all = provider()->SearchOffers(OfferFilter{});
  if (!all) return all.error().WithContext(where + " matches the filter");
  std::set<std::string> available;
  for (const Offer& o : *all) available.insert(o.gpu_name);
  std::string names = JoinStrings({available.begin(), available.end()}, ", ");
  if (names.empty()) names = "none at all";
  if (filter.gpu_names.empty()) {
    return NotFoundError(where + " matches the filter (available GPUs: " + names +
                         "); loosen it or look with `standby offers`");
  }
  return NotFoundError(where + " matches --gpu '" + asked + "' (available: " + names + ")");
}

Status Fleet::PrepareAccountOnce() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!account_prepared_) {
    // The provider must hand new machines the controller's key (Vast: the account's keys).
    if (!public_key_.empty()) RETURN_IF_ERROR(provider()->PrepareAccount(public_key_));
    account_prepared_ = true;
  }
  return OkStatus();
}

Result<ProvisionOutcome> Fleet::Provision(const ProvisionRequest& request) {
  RETURN_IF_ERROR(PrepareAccountOnce());
  return provisioner_->Provision(request);
}

Result<std::vector<HeadStartCandidate>> Fleet::LaunchAhead(const ProvisionRequest& request,
                                                           int count) {
  RETURN_IF_ERROR(PrepareAccountOnce());
  return provisioner_->LaunchAhead(request, count);
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
  RETURN_IF_ERROR(ValidateProviderId(id));
  Instance before;  // its endpoints, whose pins go with it
  ASSIGN_OR_RETURN(DestroyOutcome outcome,
                   DestroyInstance(provider(), state_, id, clock_, &before));
  ForgetPins(id, before.ssh);
  return outcome;
}

Result<ReapResult> Fleet::Reap(std::chrono::seconds grace, bool retry_pending) {
  ASSIGN_OR_RETURN(ReapResult reaped, ReapUnowned(provider(), state_, provisioner_->LabelPrefix(),
                                                  grace, clock_, retry_pending));
  for (const std::string& id : reaped.destroyed) ForgetPins(id, {});
  return reaped;
}

void Fleet::ForgetPins(const std::string& id, const std::vector<SshEndpoint>& endpoints) {
  std::vector<std::string> addresses;
  for (const SshEndpoint& e : endpoints) addresses.push_back(e.host + ":" + std::to_string(e.port));
  Status forgot = transports_->ForgetHost(id, addresses);
  if (!forgot) spdlog::warn("host-key pins of {} stay: {}", id, forgot.error().message);
}

Status Fleet::Kill(const std::string& id) {
  if (opened_.local_market == nullptr) {
    return InvalidArgumentError("only local market instances can be killed");
  }
  return opened_.local_market->Kill(id);
}

Status Fleet::DrillKill(const std::string& id) {
  if (opened_.local_market != nullptr) return opened_.local_market->Kill(id);
  if (opened_.provider->Name() == "vast") return opened_.provider->Destroy(id);
  return InvalidArgumentError(opened_.provider->Name() + " cannot kill a machine");
}

ReadinessReport Fleet::Readiness() { return provisioner_->Readiness(); }

void Fleet::Blacklist(const std::string& machine_id, const std::string& reason) {
  provisioner_->Blacklist(machine_id, reason);
}

}  // namespace standby
