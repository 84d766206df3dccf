#include <map>
#include <random>

#include "base/strings.h"
#include "cli/command.h"
#include "cli/provider_access.h"
#include "cli/remote.h"
#include "cli/state_access.h"
#include "env/file_system.h"
#include "provider/agent_probe.h"
#include "provider/local_market.h"
#include "provider/owned_registry.h"
#include "provider/race.h"
#include "provider/reaper.h"
#include "provider/vast_provider.h"
#include "remote/ssh_identity.h"

namespace standby {
namespace {

// The race's memory across commands lives in the state store: every candidate is a
// provisioning_attempts row (the readiness model's samples; `standby metrics` reads them)
// and failed machines are blacklist rows. A database that is away costs the history, not the
// race: writes are spooled and replayed.
void LoadHistory(StateStore* state, const std::string& provider, KaplanMeierModel* model,
                 Blacklist* blacklist) {
  auto attempts = state->ListProvisioningAttempts(provider);
  if (!attempts) {
    Say("warning: no readiness history (" + attempts.error().message + ")");
  } else {
    for (const ProvisioningAttempt& a : *attempts) {
      if (a.ready_ms >= 0) {
        model->Record(a.ready_ms / 1000.0, true);
      } else if (a.censored_ms >= 0) {
        model->Record(a.censored_ms / 1000.0, false);
      }
    }
  }
  const int64_t now_ms = Clock::Real()->Now() / 1'000'000;
  auto blacklisted = state->ActiveBlacklist(now_ms);
  if (!blacklisted) return;
  for (const BlacklistEntry& e : *blacklisted) {
    blacklist->Add(e.machine_id, Clock::Real()->MonotonicNanos() + (e.until - now_ms) * 1'000'000);
  }
}

void RecordHistory(StateStore* state, const std::string& provider, const std::string& label,
                   int64_t started_unix_ms, const RaceResult& r,
                   std::chrono::seconds blacklist_for) {
  static const std::map<std::string, std::string> kOutcome = {{"lost", "lost_race"},
                                                              {"timed_out", "timeout"},
                                                              {"stale_offer", "launch_failed"},
                                                              {"create_failed", "launch_failed"}};
  bool hits_recorded = false;
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const CandidateOutcome& c = r.candidates[i];
    if (c.outcome == "orphan_reaped") continue;
    ProvisioningAttempt a;
    a.attempt_id = label + ":" + std::to_string(i);
    a.provider = provider;
    a.offer_id = c.offer_id;
    a.machine_id = c.machine_id;
    a.provider_instance_id = c.instance_id;
    a.launched_at = started_unix_ms + static_cast<int64_t>(c.launched_at_s * 1000);
    if (c.outcome == "won") {
      a.ready_ms = static_cast<int64_t>(c.ready_after_s * 1000);
    } else if (!c.instance_id.empty()) {
      a.censored_ms = static_cast<int64_t>(c.alive_s * 1000);
    }
    auto mapped = kOutcome.find(c.outcome);
    a.outcome = mapped == kOutcome.end() ? c.outcome : mapped->second;
    if (!hits_recorded) a.rate_limit_hits = static_cast<int>(r.rate_limit_hits);
    hits_recorded = true;
    state->RecordProvisioningAttempt(a).IgnoreError();  // spooled when the database is away
    if (c.outcome == "timed_out" || c.outcome == "exited" || c.outcome == "offline" ||
        c.outcome == "probe_failed") {
      state
          ->BlacklistMachine(
              {c.machine_id, c.outcome,
               Clock::Real()->Now() / 1'000'000 + std::chrono::milliseconds(blacklist_for).count()})
          .IgnoreError();
    }
  }
}

nlohmann::json CandidateJson(const CandidateOutcome& c) {
  return {{"instance_id", c.instance_id},
          {"machine_id", c.machine_id},
          {"offer_id", c.offer_id},
          {"gpu_name", c.gpu_name},
          {"price_per_hour", c.price_per_hour},
          {"round", c.round},
          {"outcome", c.outcome},
          {"detail", c.detail},
          {"launched_at_ms", static_cast<int64_t>(c.launched_at_s * 1000)},
          {"ready_after_ms", c.ready_after_s < 0
                                 ? nlohmann::json(nullptr)
                                 : nlohmann::json(static_cast<int64_t>(c.ready_after_s * 1000))},
          {"alive_ms", static_cast<int64_t>(c.alive_s * 1000)},
          {"destroy_confirmed", c.destroy_confirmed}};
}

std::string RandomTag() {
  std::random_device device;
  char out[9];
  std::snprintf(out, sizeof(out), "%08x", device());
  return out;
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
  auto filter = OfferFilterFrom(*inv);
  if (!filter) return UsageError(command, filter.error().message, inv->json);
  RaceOptions options;
  auto initial = inv->config.GetUint("race.initial_batch");
  auto in_flight = inv->config.GetUint("race.max_in_flight");
  auto rounds = inv->config.GetUint("race.max_rounds");
  if (!initial || !in_flight || !rounds || *initial < 1 || *in_flight < *initial || *rounds < 1) {
    return UsageError(command, "need 1 <= --initial <= --max-in-flight and --rounds >= 1",
                      inv->json);
  }
  options.initial_batch = static_cast<int>(*initial);
  options.max_in_flight = static_cast<int>(*in_flight);
  options.max_rounds = static_cast<int>(*rounds);

  auto opened = OpenProvider(*inv);
  if (!opened) return Fail(opened.error(), inv->json);
  Provider* provider = opened->provider.get();
  std::string state_dir = StateDir(*inv);
  auto identity = EnsureControllerKey(FileSystem::Real(), state_dir);
  if (!identity) return Fail(identity.error(), inv->json);
  auto agent = AgentBinary(*inv);
  if (!agent) return Fail(agent.error(), inv->json);

  auto state = OpenStateFor(*inv);
  if (!state) return Fail(state.error(), inv->json);
  KaplanMeierModel model;
  Blacklist blacklist;
  LoadHistory(state->get(), provider->Name(), &model, &blacklist);
  if (provider->Name() == "local") {
    // Until the model has data, this market's own shape rather than Vast's 45 s / 90 s.
    auto profile = LoadMarketProfile(inv->config.GetOr("market", "fast"));
    if (profile && model.Samples() < options.model_min_samples) {
      options.hedge_after_s = profile->boot_median_s * profile->time_scale / 3;
      options.round_timeout_s = (profile->boot_p90_s + 10) * profile->time_scale;
    }
    options.poll_interval = std::chrono::milliseconds(250);
  } else if (provider->Name() == "vast") {
    options.poll_interval = std::chrono::milliseconds(3000);
  } else {
    options.poll_interval = std::chrono::milliseconds(500);
  }
  if (provider->Name() == "vast") {
    Status key = static_cast<VastProvider*>(provider)->EnsureSshKey(identity->public_key);
    if (!key) return Fail(key.error(), inv->json);
  }
  HostKeyPins pins(FileSystem::Real(), state_dir);
  AgentHealthProbe probe(
      {inv->Flag("ssh-user").value_or("root"), identity->private_key_path, *agent, &pins});
  LaunchSpec spec;
  spec.image = inv->Flag("image").value_or(spec.image);
  if (auto disk = inv->Flag("disk-gb")) {
    auto gb = ParseUint(*disk);
    if (!gb || *gb < 8) return UsageError(command, "--disk-gb wants at least 8", inv->json);
    spec.disk_gb = static_cast<int>(*gb);
  }
  spec.label = ControllerLabelPrefix(opened->controller) + "provision:" + RandomTag();
  Say("Racing for a " + (filter->gpu_names.empty() ? std::string("GPU") : filter->gpu_names[0]) +
      " on " + provider->Name() + " (" + std::to_string(options.initial_batch) +
      " at once, up to " + std::to_string(options.max_in_flight) + ")");
  const int64_t started_unix_ms = Clock::Real()->Now() / 1'000'000;
  auto race = RunRace(provider, &probe, &model, &blacklist, Clock::Real(), *filter, spec, options);
  if (!race) return Fail(race.error(), inv->json);
  RecordHistory(state->get(), provider->Name(), spec.label, started_unix_ms, *race,
                options.blacklist_for);
  nlohmann::json candidates = nlohmann::json::array();
  for (const CandidateOutcome& c : race->candidates) candidates.push_back(CandidateJson(c));
  nlohmann::json out = {{"provider", provider->Name()},
                        {"label", spec.label},
                        {"winner", nullptr},
                        {"candidates", candidates},
                        {"rounds", race->rounds},
                        {"rate_limit_hits", race->rate_limit_hits},
                        {"elapsed_ms", static_cast<int64_t>(race->elapsed_s * 1000)},
                        {"loser_instance_seconds", race->loser_gpu_seconds}};
  if (race->winner) {
    const Instance& w = *race->winner;
    OwnedRegistry(state_dir).Add(provider->Name(), w.id, spec.label).IgnoreError();
    const SshEndpoint& ssh = w.ssh.front();
    out["winner"] = {
        {"instance_id", w.id},
        {"machine_id", w.machine_id},
        {"ssh_host", ssh.host},
        {"ssh_port", ssh.port},
        {"ssh_user", ssh.user.empty() ? inv->Flag("ssh-user").value_or("root") : ssh.user},
        {"gpu_name", w.gpu_name},
        {"price_per_hour", w.price_per_hour},
        {"ready_after_ms", static_cast<int64_t>(race->ready_after_s * 1000)}};
  }
  if (inv->json) {
    PrintJson(out);
  } else {
    for (const CandidateOutcome& c : race->candidates) {
      Say("  " + (c.instance_id.empty() ? c.offer_id : c.instance_id) + " " + c.gpu_name + ": " +
          c.outcome + (c.detail.empty() ? "" : " (" + c.detail + ")"));
    }
    if (race->winner) {
      const nlohmann::json& w = out["winner"];
      std::printf(
          "%s %s@%s:%d %s ready after %.1f s\n", w["instance_id"].get<std::string>().c_str(),
          w["ssh_user"].get<std::string>().c_str(), w["ssh_host"].get<std::string>().c_str(),
          w["ssh_port"].get<int>(), w["gpu_name"].get<std::string>().c_str(), race->ready_after_s);
    }
  }
  if (!race->winner) {
    return Fail(UnavailableError("no machine became ready in " + std::to_string(race->rounds) +
                                 " rounds; every candidate was destroyed"),
                false);
  }
  return kExitOk;
}

}  // namespace standby
