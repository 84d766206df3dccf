#include <mutex>

#include "base/strings.h"
#include "cli/command.h"
#include "cli/interrupt.h"
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

// The instances this command created, for the line a second Ctrl-C prints.
struct Launched {
  std::mutex mu;
  std::vector<std::string> ids;
};

// The line an interrupted race ends with: what it destroyed, and what to do about anything
// it could not confirm gone.
Error InterruptedRace(const RaceResult& race) {
  std::vector<std::string> destroyed, unconfirmed;
  for (const CandidateOutcome& c : race.candidates) {
    if (c.instance_id.empty()) continue;
    (c.destroy_confirmed ? destroyed : unconfirmed).push_back(c.instance_id);
  }
  if (!unconfirmed.empty()) {
    return CancelledError("interrupted: could not confirm " + JoinStrings(unconfirmed, ", ") +
                          " destroyed; run `standby reap --grace-seconds 0` to destroy them");
  }
  if (destroyed.empty()) return CancelledError("interrupted before any machine was rented");
  return CancelledError("interrupted: destroyed the " + std::to_string(destroyed.size()) +
                        " candidate(s) it launched (" + JoinStrings(destroyed, ", ") +
                        "), each confirmed gone; nothing is rented");
}

}  // namespace

int RunProvision(const std::vector<std::string>& args) {
  const std::string command = "provision";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  static Launched launched;  // read by the signal thread, which may outlive this frame
  ProvisionRequest request;
  request.cancel = CatchInterrupts("destroying every candidate launched so far", [] {
    std::lock_guard<std::mutex> lock(launched.mu);
    if (launched.ids.empty()) return std::string("no machine was rented");
    return JoinStrings(launched.ids, ", ") +
           " may still be running: run `standby reap --grace-seconds 0`";
  });
  request.on_launched = [](const std::string& id) {
    std::lock_guard<std::mutex> lock(launched.mu);
    launched.ids.push_back(id);
  };
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
  if (race.winner && request.cancel->IsSet()) {
    // The signal came after the race, while the winner's ownership was recorded.
    auto destroyed = fleet.Destroy(race.winner->id);
    if (!destroyed) {
      return Fail(CancelledError("interrupted: could not destroy the winner " + race.winner->id +
                                 " (" + destroyed.error().message + "); run `standby destroy " +
                                 race.winner->id + "`"),
                  false);
    }
    return Fail(CancelledError("interrupted: destroyed the winner " + race.winner->id +
                               " and every other candidate; nothing is rented"),
                false);
  }
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
  if (!inv->json) {
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
  // With --json: the race as the result, or inside the error's details when nothing won.
  auto failure = [&]() -> std::optional<Error> {
    if (race.cancelled) return InterruptedRace(race);
    if (!race.winner) {
      size_t created = 0;
      std::string first_failure;
      for (const CandidateOutcome& c : race.candidates) {
        if (!c.instance_id.empty()) ++created;
        if (first_failure.empty()) first_failure = c.detail;
      }
      if (race.candidates.empty()) {
        auto offers = fleet.Offers(request.filter);
        if (offers && !offers->empty()) {
          return UnavailableError("nothing was launched: every machine matching the filter (" +
                                  std::to_string(offers->size()) +
                                  " offers) failed a recent race and is blacklisted for an "
                                  "hour; widen the filter or try again later");
        }
        return fleet.NoOfferMatches(request.filter);
      }
      if (created == 0) {
        return UnavailableError("nothing was launched: every create request failed (" +
                                first_failure + ")");
      }
      return UnavailableError("no machine became ready in " + std::to_string(race.rounds) +
                              " round(s); every candidate (" + std::to_string(created) +
                              ") was destroyed");
    }
    return std::nullopt;
  }();
  if (failure) return FailWithDetails(*failure, inv->json, out);
  if (inv->json) PrintJson(out);
  return kExitOk;
}

}  // namespace standby
