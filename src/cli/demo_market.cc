// `standby demo` on the embedded defaults: the local simulated GPU market, a directory
// store and standby-agent over SSH — rent gpu-1, snapshot it through the agent, lose it, race
// for gpu-2, restore onto it straight from the store, verify every byte there.
#include "cli/demo_market.h"

#include <iostream>
#include <random>

#include "base/strings.h"
#include "cli/command.h"
#include "cli/demo_workspace.h"
#include "env/clock.h"
#include "provider/agent_probe.h"
#include "provider/local_market.h"
#include "provider/race.h"
#include "provider/reaper.h"
#include "remote/ssh_identity.h"
#include "remote/ssh_transport.h"

namespace standby {
namespace {

// Destroys what the demo rented, whatever happens.
class Rentals {
 public:
  explicit Rentals(LocalMarket* market) : market_(market) {}
  ~Rentals() {
    for (const std::string& id : ids_) market_->Destroy(id).IgnoreError();
  }
  void Add(const std::string& id) { ids_.push_back(id); }

 private:
  LocalMarket* market_;
  std::vector<std::string> ids_;
};

class MarketDemo {
 public:
  MarketDemo(std::string base, std::string agent, uint64_t bytes, bool interactive)
      : base_(std::move(base)),
        bytes_(bytes),
        interactive_(interactive),
        agent_(std::move(agent)) {}

  Result<nlohmann::json> Run() {
    FileSystem* fs = FileSystem::Real();
    const std::string state = JoinPath(base_, "state");
    const std::string repo = JoinPath(base_, "repo");
    ASSIGN_OR_RETURN(SshIdentity identity, EnsureControllerKey(fs, state));
    ASSIGN_OR_RETURN(std::string self, SelfPath());
    key_ = identity.private_key_path;
    ASSIGN_OR_RETURN(profile_, LoadMarketProfile("fast"));
    LocalMarket market(profile_, state, self, identity.public_key);
    Rentals rentals(&market);
    pins_ = std::make_unique<HostKeyPins>(fs, state);

    Say("standby demo: rent -> snapshot -> machine lost -> race -> restore -> verify, in " + base_);
    ASSIGN_OR_RETURN(Instance gpu1, Rent(&market, "gpu-1", &rentals));
    std::string ws1 = market.HostDir(gpu1.id) + "/workspace";
    std::mt19937_64 rng(42);
    int64_t t = Clock::Real()->MonotonicNanos();
    RETURN_IF_ERROR(GenerateWorkspace(fs, ws1, bytes_, &rng));
    Record("generate workspace", t, HumanBytes(bytes_) + " on gpu-1's disk");
    Pause("take a full snapshot on gpu-1, through the agent");

    AgentJob snap = Job("snapshot", repo);
    snap.workspace = ws1;
    t = Clock::Real()->MonotonicNanos();
    ASSIGN_OR_RETURN(nlohmann::json full, OnHost(gpu1, snap));
    Record("full snapshot", t,
           std::to_string(full.value("files_total", 0)) + " files, " +
               HumanBytes(full.value("bytes_uploaded", uint64_t{0})) + " stored");
    Pause("run a training step and take an incremental snapshot");

    RETURN_IF_ERROR(TrainingStep(fs, ws1, bytes_, &rng));
    t = Clock::Real()->MonotonicNanos();
    ASSIGN_OR_RETURN(nlohmann::json inc, OnHost(gpu1, snap));
    Record("incremental snapshot", t,
           std::to_string(inc.value("files_changed", 0)) + " of " +
               std::to_string(inc.value("files_total", 0)) + " files changed, " +
               HumanBytes(inc.value("bytes_uploaded", uint64_t{0})) + " uploaded");
    Pause("kill gpu-1");

    t = Clock::Real()->MonotonicNanos();
    RETURN_IF_ERROR(market.Kill(gpu1.id));
    InstanceState state_now = InstanceState::kRunning;
    for (int i = 0; i < 200 && state_now != InstanceState::kOffline; ++i) {  // ≤ 10 s
      Clock::Real()->SleepFor(std::chrono::milliseconds(50));
      ASSIGN_OR_RETURN(Instance seen, market.Get(gpu1.id));
      state_now = seen.state;
    }
    if (state_now != InstanceState::kOffline) {
      return UnavailableError("the market never reported gpu-1 offline");
    }
    Record("machine lost", t, "gpu-1 killed; the market reports it offline");
    Pause("race for a replacement and restore onto it");

    const int64_t recovery = Clock::Real()->MonotonicNanos();
    ASSIGN_OR_RETURN(Instance gpu2, Rent(&market, "gpu-2", &rentals));
    std::string ws2 = market.HostDir(gpu2.id) + "/workspace";
    AgentJob restore = Job("restore", repo);
    restore.target = ws2;
    restore.overwrite = true;  // the new host's (empty) workspace directory exists
    t = Clock::Real()->MonotonicNanos();
    ASSIGN_OR_RETURN(nlohmann::json restored, OnHost(gpu2, restore));
    Record("restore on gpu-2", t,
           std::to_string(restored.value("files_restored", 0)) + " files, " +
               HumanBytes(restored.value("bytes_restored", uint64_t{0})) +
               " straight from the store");
    AgentJob verify = Job("verify", repo);
    verify.workspace = ws2;
    t = Clock::Real()->MonotonicNanos();
    ASSIGN_OR_RETURN(nlohmann::json verified, OnHost(gpu2, verify));
    Record("verify every byte", t,
           "validation " + verified.value("validation", std::string()) + ", " +
               std::to_string(verified.value("files_restored", 0)) + "/" +
               std::to_string(verified.value("files_expected", 0)) + " files");
    const int64_t recovery_ms = ElapsedMillis(Clock::Real(), recovery);

    PrintDemoSteps(steps_);
    Say("  rent + restore + verify (MTTR without detection and restart): " +
        std::to_string(recovery_ms) + " ms");
    nlohmann::json jsteps = nlohmann::json::array();
    for (const DemoStep& s : steps_) {
      jsteps.push_back({{"step", s.name}, {"ms", s.ms}, {"detail", s.detail}});
    }
    return nlohmann::json{{"steps", jsteps},
                          {"recovery_ms", recovery_ms},
                          {"validation", verified.value("validation", std::string())},
                          {"snapshot_id", verified.value("snapshot_id", std::string())},
                          {"dir", base_}};
  }

 private:
  AgentJob Job(const std::string& command, const std::string& repo) {
    AgentJob job;
    job.command = command;
    job.repo = repo;
    job.instance_id = "gpu-1";
    return job;
  }

  Result<Instance> Rent(LocalMarket* market, const std::string& name, Rentals* rentals) {
    AgentHealthProbe probe({"root", key_, agent_, pins_.get()});
    RaceOptions options;
    options.poll_interval = std::chrono::milliseconds(200);
    options.hedge_after_s = profile_.boot_median_s * profile_.time_scale / 3;
    options.round_timeout_s = (profile_.boot_p90_s + 10) * profile_.time_scale;
    LaunchSpec spec;
    spec.label = ControllerLabelPrefix("demo") + name;
    OfferFilter filter;
    filter.gpu_names = {"RTX 4090"};
    int64_t t = Clock::Real()->MonotonicNanos();
    ASSIGN_OR_RETURN(RaceResult race, RunRace(market, &probe, &model_, &blacklist_, Clock::Real(),
                                              filter, spec, options));
    if (!race.winner) return UnavailableError("no machine became ready for " + name);
    rentals->Add(race.winner->id);
    Record("rent " + name, t,
           "instance " + race.winner->id + " ready after " +
               std::to_string(static_cast<int>(race.ready_after_s * 1000)) + " ms, " +
               std::to_string(race.candidates.size()) + " candidates raced");
    return *race.winner;
  }

  Result<nlohmann::json> OnHost(const Instance& host, const AgentJob& job) {
    SshOptions ssh;
    const SshEndpoint& e = host.ssh.front();
    ssh.target = {e.user.empty() ? "root" : e.user, e.host, e.port};
    ssh.private_key_path = key_;
    ssh.pins = pins_.get();
    ssh.pin_name = host.id;
    SshTransport transport(ssh, agent_);
    return transport.RunJob(job, [](const AgentEvent& event) {
      if (event.type == "log") Say("   " + event.body.value("message", std::string()));
    });
  }

  void Record(const std::string& name, int64_t start, const std::string& detail) {
    steps_.push_back({name, ElapsedMillis(Clock::Real(), start), detail});
    Say(std::to_string(steps_.size()) + ". " + name + ": " + detail);
  }

  void Pause(const std::string& next) {
    if (!interactive_) return;
    Say("  [Enter] " + next);
    std::string line;
    std::getline(std::cin, line);
  }

  std::string base_;
  uint64_t bytes_;
  bool interactive_;
  std::string agent_, key_;
  MarketProfile profile_;
  std::unique_ptr<HostKeyPins> pins_;
  KaplanMeierModel model_;
  Blacklist blacklist_;
  std::vector<DemoStep> steps_;
};

}  // namespace

Result<nlohmann::json> RunMarketDemo(const std::string& base, const std::string& agent,
                                     uint64_t bytes, bool interactive) {
  MarketDemo demo(base, agent, bytes, interactive);
  return demo.Run();
}

}  // namespace standby
