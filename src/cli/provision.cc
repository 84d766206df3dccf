#include <fstream>
#include <random>

#include "base/strings.h"
#include "cli/command.h"
#include "cli/provider_access.h"
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

// Readiness samples survive between commands in <state_dir>/readiness/<provider>.jsonl
// (one {"seconds", "ready"} per candidate) until the state store keeps them.
std::string SamplesPath(const std::string& state_dir, const std::string& provider) {
  return JoinPath(JoinPath(state_dir, "readiness"), provider + ".jsonl");
}

void LoadSamples(const std::string& path, KaplanMeierModel* model) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    try {
      auto j = nlohmann::json::parse(line);
      model->Record(j.at("seconds").get<double>(), j.at("ready").get<bool>());
    } catch (const std::exception&) {
      // a torn last line from a crash: skip it
    }
  }
}

Status AppendSamples(const std::string& path, const RaceResult& r) {
  RETURN_IF_ERROR(MakeDirs(FileSystem::Real(), std::string(ParentPath(path)), 0700));
  std::ofstream out(path, std::ios::app);
  for (const CandidateOutcome& c : r.candidates) {
    if (c.instance_id.empty() || c.outcome == "orphan_reaped") continue;
    bool ready = c.outcome == "won";
    out << nlohmann::json{{"seconds", ready ? c.ready_after_s : c.alive_s}, {"ready", ready}}.dump()
        << "\n";
  }
  if (!out) return ErrnoError(errno, "append " + path);
  return OkStatus();
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
  auto self = SelfPath();
  if (!self) return Fail(self.error(), inv->json);
  std::string agent = inv->config.GetOr("agent_path", "");
  if (agent.empty()) agent = std::string(ParentPath(*self)) + "/standby-agent";

  KaplanMeierModel model;
  std::string samples = SamplesPath(state_dir, provider->Name());
  LoadSamples(samples, &model);
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
      {inv->Flag("ssh-user").value_or("root"), identity->private_key_path, agent, &pins});
  LaunchSpec spec;
  spec.image = inv->Flag("image").value_or(spec.image);
  if (auto disk = inv->Flag("disk-gb")) {
    auto gb = ParseUint(*disk);
    if (!gb || *gb < 8) return UsageError(command, "--disk-gb wants at least 8", inv->json);
    spec.disk_gb = static_cast<int>(*gb);
  }
  spec.label = ControllerLabelPrefix(opened->controller) + "provision:" + RandomTag();
  Blacklist blacklist;
  Say("Racing for a " + (filter->gpu_names.empty() ? std::string("GPU") : filter->gpu_names[0]) +
      " on " + provider->Name() + " (" + std::to_string(options.initial_batch) +
      " at once, up to " + std::to_string(options.max_in_flight) + ")");
  auto race = RunRace(provider, &probe, &model, &blacklist, Clock::Real(), *filter, spec, options);
  if (!race) return Fail(race.error(), inv->json);
  AppendSamples(samples, *race).IgnoreError();
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
