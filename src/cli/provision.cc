#include "base/strings.h"
#include "cli/command.h"
#include "cli/provider_access.h"
#include "failover/runtime.h"

namespace standby {
namespace {

nlohmann::json CandidateJson(const CandidateOutcome& c) {
  return {{"instance_id", c.instance_id},
          {"machine_id", c.machine_id},
          {"offer_id", c.offer_id},
          {"gpu_name", c.gpu_name},
          {"price_per_hour", c.price_per_hour},
          {"round", c.round},
          {"outcome", RaceOutcomeName(c.outcome)},
          {"detail", c.detail},
          {"launched_at_ms", static_cast<int64_t>(c.launched_at_s * 1000)},
          {"ready_after_ms", c.ready_after_s < 0
                                 ? nlohmann::json(nullptr)
                                 : nlohmann::json(static_cast<int64_t>(c.ready_after_s * 1000))},
          {"alive_ms", static_cast<int64_t>(c.alive_s * 1000)},
          {"destroy_confirmed", c.destroy_confirmed}};
}

}  // namespace

int RunProvision(const std::vector<std::string>& args) {
  const std::string command = "provision";
  auto specs = ProviderFlagSpecs();
  auto filters = OfferFilterFlagSpecs();
  specs.insert(specs.end(), filters.begin(), filters.end());
  specs.insert(specs.end(), {{"image", true, ""},
                             {"disk-gb", true, ""},
                             {"initial", true, "race.initial_batch"},
                             {"max-in-flight", true, "race.max_in_flight"},
                             {"rounds", true, "race.max_rounds"},
                             {"ssh-user", true, ""}});
  auto inv = Prepare(command, args, specs, 0);
  if (!inv) return UsageError(command, inv.error().message, false);
  ProvisionRequest request;
  auto filter = OfferFilterFrom(*inv);
  if (!filter) return UsageError(command, filter.error().message, inv->json);
  request.filter = *filter;
  request.launch.image = inv->Flag("image").value_or(request.launch.image);
  if (auto disk = inv->Flag("disk-gb")) {
    auto gb = ParseUint(*disk);
    if (!gb || *gb < 8) return UsageError(command, "--disk-gb wants at least 8", inv->json);
    request.launch.disk_gb = static_cast<int>(*gb);
  }
  request.ssh_user = inv->Flag("ssh-user").value_or("root");
  if (auto race = RaceOptionsFromConfig(inv->config); !race) {
    return UsageError(command, race.error().message, inv->json);
  }
  auto opened = OpenControllerRuntime(inv->config, RuntimeParts::kFleet);
  if (!opened) return Fail(opened.error(), inv->json);
  Fleet& fleet = *(*opened)->fleet;
  const RaceOptions& options = fleet.provisioner()->options();
  Say("Racing for a " +
      (request.filter.gpu_names.empty() ? std::string("GPU") : request.filter.gpu_names[0]) +
      " on " + fleet.provider()->Name() + " (" + std::to_string(options.initial_batch) +
      " at once, up to " + std::to_string(options.max_in_flight) + ")");
  auto outcome = fleet.Provision(request);
  if (!outcome) return Fail(outcome.error(), inv->json);
  const RaceResult& race = outcome->race;
  nlohmann::json candidates = nlohmann::json::array();
  for (const CandidateOutcome& c : race.candidates) candidates.push_back(CandidateJson(c));
  nlohmann::json out = {{"provider", fleet.provider()->Name()},
                        {"label", outcome->label},
                        {"winner", nullptr},
                        {"candidates", candidates},
                        {"rounds", race.rounds},
                        {"rate_limit_hits", race.rate_limit_hits},
                        {"elapsed_ms", static_cast<int64_t>(race.elapsed_s * 1000)},
                        {"hedge_after_ms", static_cast<int64_t>(race.hedge_after_s * 1000)},
                        {"round_timeout_ms", static_cast<int64_t>(race.round_timeout_s * 1000)},
                        {"loser_instance_seconds", race.loser_gpu_seconds}};
  if (race.winner) {
    const Instance& w = *race.winner;
    const SshEndpoint& ssh = w.ssh.front();
    out["winner"] = {{"instance_id", w.id},
                     {"machine_id", w.machine_id},
                     {"ssh_host", ssh.host},
                     {"ssh_port", ssh.port},
                     {"ssh_user", outcome->ssh_user},
                     {"gpu_name", w.gpu_name},
                     {"price_per_hour", w.price_per_hour},
                     {"ready_after_ms", static_cast<int64_t>(race.ready_after_s * 1000)}};
  }
  if (inv->json) {
    PrintJson(out);
  } else {
    for (const CandidateOutcome& c : race.candidates) {
      Say("  " + (c.instance_id.empty() ? c.offer_id : c.instance_id) + " " + c.gpu_name + ": " +
          std::string(RaceOutcomeName(c.outcome)) +
          (c.detail.empty() ? "" : " (" + c.detail + ")"));
    }
    if (race.winner) {
      const nlohmann::json& w = out["winner"];
      std::printf(
          "%s %s@%s:%d %s ready after %.1f s\n", w["instance_id"].get<std::string>().c_str(),
          w["ssh_user"].get<std::string>().c_str(), w["ssh_host"].get<std::string>().c_str(),
          w["ssh_port"].get<int>(), w["gpu_name"].get<std::string>().c_str(), race.ready_after_s);
    }
  }
  if (!race.winner) {
    std::string what = race.candidates.empty()
                           ? "no offer matched the filter, so nothing was launched"
                           : "no machine became ready in " + std::to_string(race.rounds) +
                                 " rounds; every candidate was destroyed";
    return Fail(UnavailableError(what), false);
  }
  return kExitOk;
}

}  // namespace standby
