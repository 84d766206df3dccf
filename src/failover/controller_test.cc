// The controller on its seams: the simulated market, in-process hosts running the real agent
// job code, a memory store, SQLite, and the deterministic scheduler as the controller's clock
// and executor (its real tasks, interleaved by a seed; the hosts' agents run on real threads
// and the real clock). Whole failovers in milliseconds: detection, the state machine,
// resuming after a kill in every phase, replacements dying mid-restore, and the cases that
// must never fail over.
#include "failover/controller.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <optional>

#include "agent/in_process_hosts.h"
#include "base/strings.h"
#include "failover/drill.h"
#include "failover/operations.h"
#include "failover/protected_rows.h"
#include "failover/speculation.h"
#include "provider/simulated_market.h"
#include "provision/ownership.h"
#include "snapshot/repository.h"
#include "state/open_state_store.h"
#include "store/fault_injecting_store.h"
#include "store/mem_object_store.h"
#include "testing/deterministic_scheduler.h"
#include "testing/test_util.h"

namespace standby {
namespace {

// Hosts borrowed from the test (the fleet owns its transport factory).
class BorrowedHosts : public TransportFactory {
 public:
  explicit BorrowedHosts(InProcessHosts* hosts) : hosts_(hosts) {}
  std::unique_ptr<AgentTransport> Connect(const HostAddress& a) override {
    return hosts_->Connect(a);
  }

 private:
  InProcessHosts* hosts_;
};

// The market behind a switch: its API can fail while its machines keep running.
class SwitchableProvider : public Provider {
 public:
  explicit SwitchableProvider(std::unique_ptr<SimulatedMarket> market)
      : market_(std::move(market)) {}
  std::string Name() const override { return "simulated"; }
  Result<std::vector<Offer>> SearchOffers(const OfferFilter& f) override {
    RETURN_IF_ERROR(Check());
    return market_->SearchOffers(f);
  }
  Result<Instance> Create(const Offer& o, const LaunchSpec& s) override {
    RETURN_IF_ERROR(Check());
    return market_->Create(o, s);
  }
  Result<Instance> Get(const std::string& id) override {
    RETURN_IF_ERROR(Check());
    return market_->Get(id);
  }
  Result<std::vector<Instance>> List(const std::string& prefix) override {
    RETURN_IF_ERROR(Check());
    return market_->List(prefix);
  }
  Status Destroy(const std::string& id) override {
    RETURN_IF_ERROR(Check());
    return market_->Destroy(id);
  }
  // false: a static pool's "destroy" only releases the machine, which keeps running.
  bool DestroyStopsMachine() const override { return destroy_stops.load(); }
  SimulatedMarket* market() { return market_.get(); }
  std::atomic<bool> down{false};
  std::atomic<bool> destroy_stops{true};

 private:
  Status Check() const {
    if (down.load()) return UnavailableError("provider API: 503 Service Unavailable");
    return OkStatus();
  }
  std::unique_ptr<SimulatedMarket> market_;
};

class ControllerTest : public ::testing::Test {
 protected:
  ControllerTest()
      : sched_({.seed = 11, .start = Clock::Real()->Now()}),
        random_(11),
        mem_(Clock::Real()),
        store_(&mem_),
        hosts_(dir_.Sub("hosts"), &store_, Clock::Real()) {
    MarketProfile profile = VastLikeProfile();
    profile.never_ready_share = 0;
    profile.exit_during_boot_share = 0;
    profile.offline_lag_s = 2;
    auto provider = std::make_unique<SwitchableProvider>(
        std::make_unique<SimulatedMarket>(profile, &sched_, 5));
    provider_ = provider.get();
    state_ = std::move(*OpenStateStore("", dir_.Sub("state")));
    OpenedProvider opened;
    opened.provider = std::move(provider);
    opened.controller = "test";
    RaceOptions race;
    race.poll_interval = std::chrono::milliseconds(1000);
    race.executor = &sched_;
    fleet_ = std::make_unique<Fleet>(std::move(opened), std::make_unique<BorrowedHosts>(&hosts_),
                                     state_.get(), &sched_, &random_, race, "root");
    ctx_.clock = &sched_;
    ctx_.executor = &sched_;
    ctx_.random = &random_;
    ctx_.state = state_.get();
    ctx_.fleet = fleet_.get();
    ctx_.open_store = [this](const std::string&) -> Result<std::shared_ptr<ObjectStore>> {
      return std::shared_ptr<ObjectStore>(&store_, [](ObjectStore*) {});
    };
    ctx_.controller = "test";
    ctx_.process_id = "test-process-1";
    ctx_.log = [this](const std::string& line) { log_ += line + "\n"; };
  }

  ProtectionSpec Spec() {
    ProtectionSpec s;
    s.name = "llm-1";
    s.repo = "/repo";
    s.snapshot_every = std::chrono::seconds(0);  // only where a test asks for them
    s.policy.max_attempts = 3;
    return s;
  }
  // A snapshot of llm-1 with a model and a config, taken on a scratch host.
  void SeedSnapshot() {
    WriteFile(hosts_.HostPath("seed:22", "/workspace/model.bin"), RandomBytes(2 << 20, 1));
    WriteFile(hosts_.HostPath("seed:22", "/workspace/config.json"), "{\"layers\": 2}");
    auto seed = hosts_.Connect({"root", "seed", 22, ""});
    StoreAccess access{"/repo", {}};
    ASSERT_OK(HostAgent(seed.get(), &access).Snapshot("llm-1", "/workspace", false));
  }
  ProtectedInstance Placed(const ProtectionSpec& spec) {
    auto placed = Protect(&ctx_, spec, {"", std::nullopt, true}, nullptr);
    EXPECT_TRUE(placed.has_value()) << (placed ? "" : placed.error().message);
    return placed ? *placed : ProtectedInstance{};
  }
  std::string HostKey(const std::string& host, int port) {
    return host + ":" + std::to_string(port);
  }
  // The machine dies: the provider notices after its lag, SSH fails at once.
  void Kill(const ProtectedInstance& p) {
    ASSERT_OK(provider_->market()->Kill(p.provider_instance_id));
    hosts_.Kill(HostKey(p.ssh_host, p.ssh_port));
  }
  std::vector<FailoverEvent> Failovers() {
    auto events = ListEvents(&ctx_, "llm-1");
    EXPECT_TRUE(events.has_value());
    std::vector<FailoverEvent> out;
    for (FailoverEvent& e : *events) {
      if (e.trigger != "initial") out.push_back(e);
    }
    return out;
  }
  // A controller process (`standby serve`) running on the scheduler from here until it goes
  // out of scope (stopped and joined) or is killed (kill -9: it never runs again, nothing of it
  // is destroyed).
  class Running {
   public:
    explicit Running(ControllerTest* t, ControllerOptions options = {}) : t_(t) {
      controller_ = std::make_unique<Controller>(&t->ctx_, options);
      // Started inside its group: every task it spawns is the process's, killed with it.
      task_ = t->sched_.SpawnInGroup(
          "controller",
          [this] {
            Status started = controller_->Start();
            EXPECT_OK(started);
            if (started) controller_->Run(stop_).IgnoreError();
          },
          &group_);
    }
    ~Running() {
      if (killed_) {
        controller_.release();  // kill -9: its memory stays as it was
        return;
      }
      stop_ = true;
      task_->Join();
    }
    void Kill() {
      t_->sched_.Abandon(group_);
      killed_ = true;
    }

   private:
    ControllerTest* t_;
    std::unique_ptr<Controller> controller_;
    std::atomic<bool> stop_{false};
    int group_ = -1;
    bool killed_ = false;
    std::unique_ptr<Executor::Task> task_;
  };
  // Runs `body` as the scheduler's root task (the controller's tasks run while it waits).
  void Sim(const std::function<void()>& body) { sched_.Run(body); }
  // Probe intervals (2 s each) pass, with whatever runs, until `done` or `rounds` ran out.
  void RunUntil(const std::function<bool()>& done, int rounds = 200) {
    for (int i = 0; i < rounds && !done(); ++i) sched_.SleepFor(std::chrono::seconds(2));
  }
  bool FailoverFinished() {
    for (const FailoverEvent& e : Failovers()) {
      if (e.completed_at > 0) return true;
    }
    return false;
  }
  ProtectedInstance Current() { return **state_->GetProtectedInstance("llm-1"); }

  TempDir dir_;
  DeterministicScheduler sched_;
  SeededRandom random_;
  MemObjectStore mem_;
  FaultInjectingStore store_;
  InProcessHosts hosts_;
  SwitchableProvider* provider_ = nullptr;
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<Fleet> fleet_;
  ControllerContext ctx_;
  std::string log_;
};

TEST_F(ControllerTest, ADeadHostIsReplacedRestoredValidatedAndRecorded) {
  Sim([&] {
    SeedSnapshot();
    ProtectedInstance before = Placed(Spec());
    ASSERT_EQ(before.status, "healthy");
    EXPECT_EQ(ReadFile(hosts_.HostPath(HostKey(before.ssh_host, before.ssh_port),
                                       "/workspace/config.json")),
              "{\"layers\": 2}");
    Running controller(this);
    RunUntil([] { return false; }, 5);
    EXPECT_TRUE(Failovers().empty()) << log_;
    Kill(before);
    RunUntil([&] { return FailoverFinished(); });
    auto failovers = Failovers();
    ASSERT_EQ(failovers.size(), 1u) << log_;
    const FailoverEvent& e = failovers[0];
    EXPECT_TRUE(e.success) << e.failure_reason;
    EXPECT_EQ(e.trigger, "host_dead");
    EXPECT_EQ(e.fence, "confirmed");
    EXPECT_EQ(e.original_instance_id, before.provider_instance_id);
    EXPECT_EQ(e.original_ssh_user, before.ssh_user);  // fencing logs in as the host's user
    EXPECT_FALSE(e.original_ssh_user.empty());
    EXPECT_EQ(e.files_restored, 2);
    EXPECT_EQ(e.files_expected, 2);
    EXPECT_GT(e.gpu_provisioning_time_ms, 0);
    EXPECT_EQ(e.total_ms, e.completed_at - e.first_failure_at);
    EXPECT_NE(log_.find("host dead"), std::string::npos) << log_;
    ProtectedInstance after = Current();
    EXPECT_EQ(after.status, "healthy");
    EXPECT_EQ(after.provider_instance_id, e.new_instance_id);
    EXPECT_EQ(after.failovers, 1);
    EXPECT_EQ(after.last_mttr_ms, e.total_ms);
    EXPECT_EQ(
        ReadFile(hosts_.HostPath(HostKey(after.ssh_host, after.ssh_port), "/workspace/model.bin")),
        RandomBytes(2 << 20, 1));
    // Nothing left but the new host, which is owned; the dead one is no longer owned.
    EXPECT_EQ(provider_->market()->LiveInstances(), 1u);
    ASSERT_OK_AND_ASSIGN(auto owned, OwnedInstances(state_.get(), "simulated"));
    EXPECT_EQ(owned, std::set<std::string>{e.new_instance_id});
  });
}

TEST_F(ControllerTest, ACrashInEveryPhaseResumesTheSameFailoverOnceAndLeaksNothing) {
  Sim([&] {
    for (FailoverPhase crash_in :
         {FailoverPhase::kDetected, FailoverPhase::kReplacing, FailoverPhase::kRestoring,
          FailoverPhase::kValidating, FailoverPhase::kStarting, FailoverPhase::kChecking}) {
      SCOPED_TRACE(std::string(FailoverPhaseName(crash_in)));
      log_.clear();  // one instance per phase, in one world
      ProtectionSpec spec = Spec();
      spec.name = "llm-" + std::string(FailoverPhaseName(crash_in));
      spec.workload.command = "exec sleep 600";  // killed with its host
      spec.workload.check_command = "test -f w.bin";
      WriteFile(hosts_.HostPath("seed:22", "/workspace/w.bin"), RandomBytes(1 << 20, 2));
      auto seed = hosts_.Connect({"root", "seed", 22, ""});
      StoreAccess access{"/repo", {}};
      ASSERT_OK(HostAgent(seed.get(), &access).Snapshot(spec.name, "/workspace", false));
      auto placed = Protect(&ctx_, spec, {"", std::nullopt, true}, nullptr);
      ASSERT_OK(placed);
      int crashes = 0;
      std::unique_ptr<Running> first;
      ctx_.process_id = "test-process-" + std::string(FailoverPhaseName(crash_in)) + "-1";
      ctx_.crash_after_persist = [&](const std::string&, FailoverPhase phase) {
        if (phase != crash_in || crashes++ > 0) return false;
        first->Kill();  // kill -9 right after the phase is persisted: it never runs again
        return true;
      };
      first = std::make_unique<Running>(this);
      ASSERT_OK(provider_->market()->Kill(placed->provider_instance_id));
      hosts_.Kill(HostKey(placed->ssh_host, placed->ssh_port));
      RunUntil([&] { return crashes > 0; }, 50);
      ASSERT_EQ(crashes, 1) << log_;
      first.reset();  // (killed: nothing of it is destroyed)
      ctx_.crash_after_persist = nullptr;
      // Another process: it resumes the failover once the dead one's claim has expired.
      ctx_.process_id = "test-process-" + std::string(FailoverPhaseName(crash_in)) + "-2";
      Running second(this);
      RunUntil([&] { return log_.find("resuming failover") != std::string::npos; }, 30);
      EXPECT_NE(log_.find("resuming failover"), std::string::npos) << log_;
      EXPECT_NE(log_.find("from " + std::string(FailoverPhaseName(crash_in))), std::string::npos)
          << log_;
      auto finished = [&] {
        auto events = ListEvents(&ctx_, spec.name);
        for (const FailoverEvent& e : *events) {
          if (e.trigger == "host_dead" && e.completed_at > 0) return true;
        }
        return false;
      };
      RunUntil(finished);
      ASSERT_OK_AND_ASSIGN(auto events, ListEvents(&ctx_, spec.name));
      int failovers = 0;
      for (const FailoverEvent& e : events) {
        if (e.trigger == "initial") continue;
        ++failovers;
        EXPECT_TRUE(e.success) << e.failure_reason << "\n" << log_;
      }
      EXPECT_EQ(failovers, 1) << log_;
      ProtectedInstance now = **state_->GetProtectedInstance(spec.name);
      EXPECT_EQ(now.status, "healthy");
      // Leaks: every live machine is some protected instance's current host.
      ASSERT_OK_AND_ASSIGN(auto live, provider_->market()->List(""));
      ASSERT_OK_AND_ASSIGN(auto all, state_->ListProtectedInstances());
      std::set<std::string> hosts_in_use;
      for (const ProtectedInstance& p : all) hosts_in_use.insert(p.provider_instance_id);
      for (const Instance& i : live) EXPECT_TRUE(hosts_in_use.contains(i.id)) << i.id << " leaked";
    }
  });
}

TEST_F(ControllerTest, AReplacementThatDiesMidRestoreIsBlacklistedDestroyedAndReplaced) {
  Sim([&] {
    SeedSnapshot();
    ProtectedInstance before = Placed(Spec());
    std::string doomed, doomed_machine;
    ctx_.crash_after_persist = [&](const std::string& id, FailoverPhase phase) {
      if (phase == FailoverPhase::kRestoring && doomed.empty()) {
        auto events = state_->ListFailoverEvents();
        for (const FailoverEvent& e : *events) {
          if (e.failover_id != id) continue;
          doomed = e.new_instance_id;
          doomed_machine = e.new_machine_id;
          hosts_.DieDuringNextJob(HostKey(e.new_ssh_host, e.new_ssh_port), 2);
        }
      }
      return false;
    };
    Running controller(this);
    Kill(before);
    RunUntil([&] { return FailoverFinished(); });
    auto failovers = Failovers();
    ASSERT_EQ(failovers.size(), 1u);
    const FailoverEvent& e = failovers[0];
    EXPECT_TRUE(e.success) << e.failure_reason << "\n" << log_;
    EXPECT_EQ(e.attempts, 2);
    ASSERT_FALSE(doomed.empty());
    EXPECT_NE(e.new_instance_id, doomed);
    EXPECT_NE(e.note.find("failed while restoring"), std::string::npos) << e.note;
    EXPECT_EQ(provider_->market()->Get(doomed).error().code, ErrorCode::kNotFound);
    ASSERT_OK_AND_ASSIGN(auto blacklisted, state_->ActiveBlacklist(NowMillis(&sched_)));
    bool found = false;
    for (const BlacklistEntry& b : blacklisted) found = found || b.machine_id == doomed_machine;
    EXPECT_TRUE(found);
    EXPECT_EQ(provider_->market()->LiveInstances(), 1u);
  });
}

TEST_F(ControllerTest, NoFailoverForAnApiOutageABlipOrAnIsolatedController) {
  Sim([&] {
    SeedSnapshot();
    ProtectedInstance p = Placed(Spec());
    Running controller(this);
    // The provider's API fails for a minute while the host answers.
    provider_->down = true;
    RunUntil([] { return false; }, 30);
    provider_->down = false;
    // An SSH blip shorter than dead_after (3 probes).
    hosts_.Kill(HostKey(p.ssh_host, p.ssh_port));
    RunUntil([] { return false; }, 2);
    hosts_.Revive(HostKey(p.ssh_host, p.ssh_port));
    RunUntil([] { return false; }, 5);
    EXPECT_EQ(Current().status, "healthy");
    // The controller is cut off: host, provider and store all fail.
    provider_->down = true;
    store_.FailCall(StoreOp::kHead, 1, UnavailableError("store unreachable"), true);
    hosts_.Kill(HostKey(p.ssh_host, p.ssh_port));
    RunUntil([] { return false; }, 20);
    EXPECT_TRUE(Failovers().empty()) << log_;
    EXPECT_NE(log_.find("cut off"), std::string::npos) << log_;
    EXPECT_EQ(provider_->market()->LiveInstances(), 1u);
    // Connectivity back, host still dead: now it is a failover.
    provider_->down = false;
    store_.Heal();
    RunUntil([&] { return FailoverFinished(); });
    ASSERT_EQ(Failovers().size(), 1u);
    EXPECT_TRUE(Failovers()[0].success);
  });
}

TEST_F(ControllerTest, APausedInstanceIsLeftAloneAndResumedFromFreshProbes) {
  Sim([&] {
    SeedSnapshot();
    ProtectedInstance p = Placed(Spec());
    Running controller(this);
    ASSERT_OK_AND_ASSIGN(ProtectedInstance paused, PauseProtection(&ctx_, "llm-1"));
    EXPECT_EQ(paused.status, "paused");
    ASSERT_OK(PauseProtection(&ctx_, "llm-1"));  // idempotent
    // The host dies while paused (maintenance): nothing is failed over, nothing is rented.
    Kill(p);
    RunUntil([] { return false; }, 20);
    EXPECT_TRUE(Failovers().empty()) << log_;
    EXPECT_EQ(Current().status, "paused");
    EXPECT_EQ(provider_->market()->LiveInstances(), 1u);  // the dead one, not yet destroyed
    // An operator's failover request is answered, not acted on.
    ASSERT_OK_AND_ASSIGN(RequestRow request,
                         SubmitRequest(&ctx_, "llm-1", "failover", Trigger::kManual, false));
    RunUntil([] { return false; }, 2);
    ASSERT_OK_AND_ASSIGN(auto answered, state_->GetRequest(request.request_id));
    EXPECT_EQ(answered->result, "llm-1 is paused");
    EXPECT_TRUE(answered->failover_id.empty());
    EXPECT_TRUE(Failovers().empty()) << log_;
    // Resumed: the dead host is noticed from fresh probes and replaced.
    ASSERT_OK_AND_ASSIGN(ProtectedInstance resumed, ResumeProtection(&ctx_, "llm-1"));
    EXPECT_EQ(resumed.status, "healthy");
    RunUntil([&] { return FailoverFinished(); });
    ASSERT_EQ(Failovers().size(), 1u) << log_;
    EXPECT_TRUE(Failovers()[0].success);
    EXPECT_EQ(Current().status, "healthy");
    EXPECT_EQ(Failovers()[0].trigger, "host_dead");
    // Unknown names are a clear error.
    auto unknown = PauseProtection(&ctx_, "nope");
    ASSERT_FALSE(unknown.has_value());
    EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  });
}

TEST_F(ControllerTest, ASpecChangedWhileServingIsUsedWhicheverPathReadsTheRow) {
  Sim([&] {
    SeedSnapshot();
    ProtectionSpec spec = Spec();  // no periodic snapshots
    ProtectedInstance p = Placed(spec);
    Running controller(this);
    RunUntil([] { return false; }, 3);
    ASSERT_OK_AND_ASSIGN(auto before, state_->ListSnapshots("llm-1"));
    // `protect` changes the schedule between the controller's read of the row and the
    // supervisor's own write of it (the host turning suspect): the supervisor first sees the
    // new spec through its own read-modify-write, never through an update message.
    spec.snapshot_every = std::chrono::seconds(10);
    bool changed = false;
    auto log = ctx_.log;
    ctx_.log = [&](const std::string& line) {
      log(line);
      if (!changed && line.find("suspect") != std::string::npos) {
        changed = true;
        EXPECT_OK(Protect(&ctx_, spec, {}, nullptr));
      }
    };
    hosts_.Kill(HostKey(p.ssh_host, p.ssh_port));
    RunUntil([&] { return changed; }, 5);
    hosts_.Revive(HostKey(p.ssh_host, p.ssh_port));
    ASSERT_TRUE(changed) << log_;
    RunUntil([] { return false; }, 20);  // 40 s
    ASSERT_OK_AND_ASSIGN(auto after, state_->ListSnapshots("llm-1"));
    EXPECT_GE(after.size(), before.size() + 3) << log_;
    EXPECT_TRUE(Failovers().empty());
    // A pause and a resume carry it too.
    spec.snapshot_every = std::chrono::seconds(0);
    ASSERT_OK(Protect(&ctx_, spec, {}, nullptr));
    ASSERT_OK(PauseProtection(&ctx_, "llm-1"));
    ASSERT_OK(ResumeProtection(&ctx_, "llm-1"));
    RunUntil([] { return false; }, 2);
    ASSERT_OK_AND_ASSIGN(auto stopped, state_->ListSnapshots("llm-1"));
    RunUntil([] { return false; }, 15);
    ASSERT_OK_AND_ASSIGN(auto later, state_->ListSnapshots("llm-1"));
    EXPECT_EQ(later.size(), stopped.size()) << log_;
  });
}

TEST_F(ControllerTest, PeriodicSnapshotsAreTakenPrunedAndSurviveAStoreOutage) {
  Sim([&] {
    SeedSnapshot();
    ProtectionSpec spec = Spec();
    spec.snapshot_every = std::chrono::seconds(10);
    spec.keep_last = 2;
    ProtectedInstance p = Placed(spec);
    Running controller(this);
    RunUntil([] { return false; }, 40);  // 80 s
    ASSERT_OK_AND_ASSIGN(auto rows, state_->ListSnapshots("llm-1"));
    EXPECT_GE(rows.size(), 6u) << log_;  // the seed, and one about every 10 s
    ASSERT_OK_AND_ASSIGN(auto repo, Repository::Open(&store_, false));
    ASSERT_OK_AND_ASSIGN(auto stored, repo->ListSnapshots(std::string("llm-1")));
    EXPECT_EQ(stored.size(), 2u);
    EXPECT_EQ(Current().last_snapshot_id, rows.back().snapshot_id);
    EXPECT_EQ(Current().consecutive_snapshot_failures, 0);
    // The store goes away: snapshots fail and are counted; health is not affected.
    store_.FailCall(StoreOp::kPut, 1, UnavailableError("store outage"), true);
    RunUntil([] { return false; }, 20);
    EXPECT_GE(Current().consecutive_snapshot_failures, 2) << log_;
    EXPECT_EQ(Current().status, "healthy");
    EXPECT_TRUE(Failovers().empty());
    store_.Heal();
    RunUntil([&] { return Current().consecutive_snapshot_failures == 0; }, 20);
    EXPECT_EQ(Current().consecutive_snapshot_failures, 0);
    (void)p;
  });
}

TEST_F(ControllerTest, APlannedFailoverTakesAFinalSnapshotSoNothingIsLost) {
  Sim([&] {
    SeedSnapshot();
    ProtectedInstance p = Placed(Spec());
    Running controller(this);
    RunUntil([] { return false; }, 2);
    WriteFile(hosts_.HostPath(HostKey(p.ssh_host, p.ssh_port), "/workspace/written-just-now.txt"),
              "the last step");
    // The replacement is copied while the old host serves: what is written then (here, the
    // moment the copy begins) is not in the pre-copied snapshot, and must reach the new host
    // through the final one.
    const std::string during =
        hosts_.HostPath(HostKey(p.ssh_host, p.ssh_port), "/workspace/during-copy.txt");
    bool written = false;
    ctx_.log = [&](const std::string& line) {
      log_ += line + "\n";
      if (!written && line.find(" onto ") != std::string::npos &&
          line.find("only what changed") == std::string::npos) {
        WriteFile(during, "written while the replacement was copied");
        written = true;
      }
    };
    ASSERT_OK_AND_ASSIGN(RequestRow request,
                         SubmitRequest(&ctx_, "llm-1", "failover", Trigger::kPlanned, true));
    RunUntil([&] { return FailoverFinished(); });
    EXPECT_TRUE(written) << log_;
    auto failovers = Failovers();
    ASSERT_EQ(failovers.size(), 1u);
    EXPECT_TRUE(failovers[0].success) << failovers[0].failure_reason;
    EXPECT_EQ(failovers[0].trigger, "planned");
    EXPECT_TRUE(failovers[0].planned);
    EXPECT_GT(failovers[0].workload_stopped_at, 0);
    // The final snapshot was taken on the old host and is the one restored.
    ASSERT_OK_AND_ASSIGN(auto snapshots, state_->ListSnapshots("llm-1"));
    ASSERT_FALSE(snapshots.empty());
    EXPECT_EQ(failovers[0].snapshot_id, snapshots.back().snapshot_id);
    EXPECT_EQ(nlohmann::json::parse(failovers[0].phase_timings_json)["final_snapshot"]["status"],
              "ok");
    ProtectedInstance after = Current();
    EXPECT_EQ(ReadFile(hosts_.HostPath(HostKey(after.ssh_host, after.ssh_port),
                                       "/workspace/written-just-now.txt")),
              "the last step");
    EXPECT_EQ(ReadFile(hosts_.HostPath(HostKey(after.ssh_host, after.ssh_port),
                                       "/workspace/during-copy.txt")),
              "written while the replacement was copied");
    ASSERT_OK_AND_ASSIGN(auto taken, state_->GetRequest(request.request_id));
    EXPECT_EQ(taken->failover_id, failovers[0].failover_id);
  });
}

// A request that reaches the controller while the instance fails over (it raced past the
// command's own check) is answered, not dropped, and starts nothing; the command itself
// refuses once the failover has begun.
TEST_F(ControllerTest, ARequestDuringAFailoverIsAnsweredAlreadyFailingOverAndStartsNothing) {
  Sim([&] {
    SeedSnapshot();
    ProtectedInstance p = Placed(Spec());
    Running controller(this);
    RunUntil([] { return false; }, 2);
    Kill(p);
    RunUntil([&] { return Current().status == "failing_over"; }, 30);
    ASSERT_EQ(Current().status, "failing_over") << log_;
    auto refused = SubmitRequest(&ctx_, "llm-1", "failover", Trigger::kManual, false);
    ASSERT_FALSE(refused.has_value());
    EXPECT_NE(refused.error().message.find("already_failing_over"), std::string::npos)
        << refused.error().message;
    RequestRow raced;
    raced.request_id = "rq-raced";
    raced.instance_id = "llm-1";
    raced.kind = "failover";
    raced.trigger = "manual";
    raced.created_at = NowMillis(&sched_);
    ASSERT_OK(state_->CreateRequest(raced));
    RunUntil([&] { return FailoverFinished(); });
    RunUntil([] { return false; }, 3);
    ASSERT_OK_AND_ASSIGN(auto answered, state_->GetRequest("rq-raced"));
    ASSERT_TRUE(answered.has_value());
    EXPECT_GT(answered->taken_at, 0) << "the request was never taken";
    EXPECT_TRUE(answered->result.starts_with("already_failing_over")) << answered->result;
    auto failovers = Failovers();
    ASSERT_EQ(failovers.size(), 1u) << "the request started a second failover\n" << log_;
    EXPECT_TRUE(failovers[0].success) << failovers[0].failure_reason;
    EXPECT_EQ(failovers[0].trigger, "host_dead");
  });
}

// Where the provider's destroy only releases the machine (a static pool: here the market's
// destroy leaves the in-process host and its workload running), fencing stops the workload
// through the agent and confirms it: after a manual failover the old host runs nothing; and
// an unreachable pool host is never read as fenced because the provider let it go.
TEST_F(ControllerTest, OnAPoolTheOldWorkloadIsStoppedAndConfirmedBeforeTheNewOneStarts) {
  Sim([&] {
    SeedSnapshot();
    provider_->destroy_stops = false;
    ProtectionSpec spec = Spec();
    spec.workload.command = "exec sleep 600";
    ProtectedInstance before = Placed(spec);
    ASSERT_EQ(before.status, "healthy");
    const std::string old_root = hosts_.HostPath(HostKey(before.ssh_host, before.ssh_port));
    auto running_pids = [&] {
      std::vector<pid_t> pids;
      for (const auto& f : std::filesystem::recursive_directory_iterator(old_root)) {
        if (f.path().filename() != "workload.pid") continue;
        const pid_t pid = std::atoi(ReadFile(f.path().string()).c_str());
        if (pid > 0 && ::kill(pid, 0) == 0) pids.push_back(pid);
      }
      return pids;
    };
    ASSERT_EQ(running_pids().size(), 1u) << "the workload did not start on the pool host";
    Running controller(this);
    RunUntil([] { return false; }, 2);
    ASSERT_OK_AND_ASSIGN(RequestRow request,
                         SubmitRequest(&ctx_, "llm-1", "failover", Trigger::kManual, false));
    RunUntil([&] { return FailoverFinished(); });
    auto failovers = Failovers();
    ASSERT_EQ(failovers.size(), 1u) << log_;
    const FailoverEvent& e = failovers[0];
    EXPECT_TRUE(e.success) << e.failure_reason;
    EXPECT_EQ(e.fence, "confirmed") << e.fence_detail;
    EXPECT_NE(e.fence_detail.find("stopped"), std::string::npos) << e.fence_detail;
    EXPECT_TRUE(running_pids().empty()) << "the old pool host still runs its workload\n" << log_;
    ProtectedInstance moved = Current();
    EXPECT_NE(moved.provider_instance_id, before.provider_instance_id);

    // Its host unreachable, a pool machine cannot be confirmed fenced: the provider's
    // "destroy" says nothing about it. The new host serves (proceed) and the fence stays
    // pending, then is confirmed once the host answers again.
    const std::string key = HostKey(moved.ssh_host, moved.ssh_port);
    hosts_.Kill(key);
    auto host_dead = [&]() -> std::optional<FailoverEvent> {
      for (const FailoverEvent& f : Failovers()) {  // newest first
        if (f.trigger == "host_dead") return f;
      }
      return std::nullopt;
    };
    RunUntil([&] { return host_dead() && host_dead()->completed_at > 0; });
    ASSERT_TRUE(host_dead().has_value()) << log_;
    FailoverEvent second = *host_dead();
    EXPECT_TRUE(second.success) << second.failure_reason;
    EXPECT_EQ(second.fence, "pending")
        << "an unreachable pool host read as fenced: " << second.fence_detail;
    hosts_.Revive(key);
    RunUntil([&] { return host_dead()->fence == "confirmed"; }, 30);
    EXPECT_EQ(host_dead()->fence, "confirmed") << log_;
  });
}

// `serve` stopped (SIGTERM) while it fails an instance over, then `unprotect`: the stopped
// process's claim ended with it, so unprotect gives the failover up at once, and nothing
// it rented stays behind (before, the live-looking claim kept the failover open for good).
TEST_F(ControllerTest, AFailoverStoppedBySigtermIsGivenUpByUnprotectAndLeavesNothing) {
  Sim([&] {
    SeedSnapshot();
    ProtectedInstance p = Placed(Spec());
    {
      Running controller(this);
      RunUntil([] { return false; }, 2);
      Kill(p);
      RunUntil([&] { return Current().status == "failing_over"; }, 30);
      ASSERT_EQ(Current().status, "failing_over") << log_;
    }  // stopped at a safe point
    EXPECT_NE(log_.find("stopping at a safe point"), std::string::npos) << log_;
    ctx_.process_id = "the-operators-unprotect";  // another process than the stopped serve
    ASSERT_OK(Unprotect(&ctx_, "llm-1", false));
    ASSERT_OK_AND_ASSIGN(auto rows, state_->ListFailoverEvents({.instance_id = "llm-1"}));
    for (const FailoverEvent& e : rows) {
      EXPECT_GT(e.completed_at, 0) << e.failover_id << " was left open\n" << log_;
    }
    // Only the dead primary may still be listed (unprotect without --destroy leaves it).
    EXPECT_LE(provider_->market()->LiveInstances(), 1u) << log_;
  });
}

// A kill drill where the provider cannot kill a machine (the simulated market here, a static
// pool in real life): the workload is stopped, the host is treated as lost, detection runs on
// failed probes, and the failover is a drill that answers its request.
TEST_F(ControllerTest, AKillDrillIsDetectedRecoveredAndRecordedAsADrill) {
  Sim([&] {
    SeedSnapshot();
    ProtectionSpec spec = Spec();
    spec.workload.command = "exec sleep 600";
    ProtectedInstance before = Placed(spec);
    Running controller(this);
    RunUntil([] { return false; }, 2);
    ASSERT_OK_AND_ASSIGN(RequestRow request,
                         SubmitRequest(&ctx_, "llm-1", "drill", Trigger::kDrill, false));
    RunUntil([&] { return FailoverFinished(); });
    auto failovers = Failovers();
    ASSERT_EQ(failovers.size(), 1u) << log_;
    const FailoverEvent& e = failovers[0];
    EXPECT_TRUE(e.success) << e.failure_reason;
    EXPECT_EQ(e.trigger, "drill");
    EXPECT_FALSE(e.planned);
    EXPECT_EQ(e.original_instance_id, before.provider_instance_id);
    // Detected by failed probes (dead_after of them, 2 s apart), not by a shortcut.
    EXPECT_GE(e.detection_ms, 2 * 2000) << log_;
    EXPECT_NE(log_.find("treats the host as lost"), std::string::npos) << log_;
    EXPECT_NE(log_.find("host dead: 3 failed probes"), std::string::npos) << log_;
    ASSERT_OK_AND_ASSIGN(auto taken, state_->GetRequest(request.request_id));
    EXPECT_EQ(taken->failover_id, e.failover_id);
    EXPECT_EQ(Current().provider_instance_id, e.new_instance_id);
    // The drill's timeline and table read the same row.
    FailoverTimeline timeline(request.created_at);
    std::string lines = JoinStrings(timeline.Update(e), "\n");
    for (const char* step : {"detected (drill)", "fenced: the old host is destroyed", "race won by",
                             "validation passed", "workload started", "health check passed"}) {
      EXPECT_NE(lines.find(step), std::string::npos) << step << " missing from\n" << lines;
    }
    MttrHistory history = CollectMttrHistory(*ListEvents(&ctx_, "llm-1"));
    EXPECT_EQ(history.count, 1u);
    EXPECT_EQ(history.phases.at("total_ms").p50, static_cast<double>(e.total_ms));
    std::string table = JoinStrings(MttrTable(e, "this drill", &history), "\n");
    EXPECT_NE(table.find("(1 failover)"), std::string::npos) << table;
    EXPECT_NE(table.find("107.9 s measured"), std::string::npos) << table;

    // A second drill while none is armed is served; one on a paused instance is refused.
    ASSERT_OK(PauseProtection(&ctx_, "llm-1"));
    RunUntil([] { return false; }, 1);
    ASSERT_OK_AND_ASSIGN(RequestRow refused,
                         SubmitRequest(&ctx_, "llm-1", "drill", Trigger::kDrill, false));
    RunUntil([] { return false; }, 2);
    ASSERT_OK_AND_ASSIGN(auto answer, state_->GetRequest(refused.request_id));
    EXPECT_EQ(answer->result, "llm-1 is paused");
    EXPECT_EQ(Failovers().size(), 1u);
  });
}

// A kill drill destroys a Vast.ai instance through the API: only with the operator's --yes.
TEST_F(ControllerTest, AKillDrillOfAVastInstanceNeedsYes) {
  Sim([&] {
    SeedSnapshot();
    Placed(Spec());
    ASSERT_OK(UpdateProtectedRow(&ctx_, "llm-1", [](ProtectedInstance& p) {
      p.provider = "vast";
      return true;
    }));
    DrillRequest request;
    request.name = "llm-1";
    auto refused = RunDrill(&ctx_, request, nullptr);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(refused.error().message.find("through the Vast.ai API; add --yes"), std::string::npos)
        << refused.error().message;
    request.planned = true;  // a planned move destroys nothing by surprise
    auto planned = RunDrill(&ctx_, request, nullptr);
    ASSERT_FALSE(planned.has_value());  // no controller runs here
    EXPECT_EQ(planned.error().code, ErrorCode::kUnavailable) << planned.error().message;
    request.planned = false;
    request.yes = true;
    auto agreed = RunDrill(&ctx_, request, nullptr);
    ASSERT_FALSE(agreed.has_value());
    EXPECT_EQ(agreed.error().code, ErrorCode::kUnavailable) << agreed.error().message;
  });
}

// A scheduled drill (--drill-every) is a planned move, skipped while no offer can be found,
// and run at the next due time once one can.
TEST_F(ControllerTest, AScheduledDrillRunsWhenDueAndIsSkippedWhenNoOfferFits) {
  Sim([&] {
    SeedSnapshot();
    ProtectionSpec spec = Spec();
    spec.drill_every = std::chrono::minutes(1);
    Placed(spec);
    Running controller(this);
    provider_->down = true;  // no offer can be searched: the drill must wait
    RunUntil([] { return false; }, 40);
    EXPECT_TRUE(Failovers().empty()) << log_;
    EXPECT_NE(log_.find("scheduled drill skipped: cannot search offers"), std::string::npos)
        << log_;
    provider_->down = false;
    RunUntil([&] { return FailoverFinished(); }, 60);
    auto failovers = Failovers();
    ASSERT_EQ(failovers.size(), 1u) << log_;
    EXPECT_TRUE(failovers[0].success) << failovers[0].failure_reason;
    EXPECT_EQ(failovers[0].trigger, "drill");
    EXPECT_TRUE(failovers[0].planned);
    EXPECT_NE(log_.find("scheduled drill (every 60 s): a planned move"), std::string::npos) << log_;
    // The next one is an interval away, counted from this drill.
    RunUntil([] { return false; }, 20);
    EXPECT_EQ(Failovers().size(), 1u) << log_;
  });
}

size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// Renting on suspicion: a blip rents the race's first batch and destroys it when the host
// answers again (no failover, nothing fenced, once per window); a death hands the batch to
// the failover's race, which starts with them already booting and leaves only its winner.
TEST_F(ControllerTest, ASuspectHostRentsAheadAndABlipDestroysWhatItRented) {
  Sim([&] {
    SeedSnapshot();
    ProtectedInstance before = Placed(Spec());
    Running controller(this);
    RunUntil([] { return false; }, 2);
    const std::string key = HostKey(before.ssh_host, before.ssh_port);
    for (int blip = 0; blip < 2; ++blip) {
      hosts_.Kill(key);  // SSH fails; the machine itself runs on
      RunUntil([] { return false; }, 1);
      hosts_.Revive(key);
      RunUntil([] { return false; }, 2);
    }
    EXPECT_TRUE(Failovers().empty()) << log_;
    EXPECT_EQ(Count(log_, "renting on suspicion, 3 machine(s) loading"), 1u) << log_;
    EXPECT_EQ(Count(log_, "the host answered again: destroyed the machine(s) rented on suspicion"),
              1u)
        << log_;
    EXPECT_NE(log_.find("each confirmed gone"), std::string::npos) << log_;
    EXPECT_EQ(provider_->market()->LiveInstances(), 1u);
    EXPECT_EQ(Current().provider_instance_id, before.provider_instance_id);

    // A death, a window later: the failover races with the machines rented at the first failure.
    sched_.SleepFor(std::chrono::minutes(11));
    log_.clear();
    // What a killed controller rented on suspicion is given back by the next failover's race.
    auto offers = provider_->market()->SearchOffers({});
    ASSERT_TRUE(offers.has_value());
    LaunchSpec stray;
    stray.label = SpeculativeLabelPrefix(&ctx_, "llm-1") + "0badc0de";
    ASSERT_OK_AND_ASSIGN(Instance orphan, provider_->market()->Create(offers->back(), stray));
    Kill(before);
    RunUntil([&] { return FailoverFinished(); });
    auto failovers = Failovers();
    ASSERT_EQ(failovers.size(), 1u) << log_;
    EXPECT_TRUE(failovers[0].success) << failovers[0].failure_reason;
    const size_t rented = log_.find("renting on suspicion, 3 machine(s) loading (");
    ASSERT_NE(rented, std::string::npos) << log_;
    EXPECT_LT(rented, log_.find("failover " + failovers[0].failover_id + " started")) << log_;
    EXPECT_GE(failovers[0].candidates_launched, 3) << log_;
    EXPECT_EQ(provider_->market()->LiveInstances(), 1u) << log_;
    EXPECT_NE(log_.find("destroying " + orphan.id +
                        ", rented on suspicion by a controller that "
                        "stopped"),
              std::string::npos)
        << log_;
    // Each machine rented on suspicion ran in that failover's race (the race records them).
    const size_t open = log_.find("loading (", rented) + 9;
    std::vector<std::string> ids = SplitString(log_.substr(open, log_.find(')', open) - open), ',');
    ASSERT_EQ(ids.size(), 3u);
    ASSERT_OK_AND_ASSIGN(auto attempts, state_->ListProvisioningAttempts("simulated"));
    for (std::string id : ids) {
      id = std::string(TrimWhitespace(id));
      bool raced = false;
      for (const ProvisioningAttempt& a : attempts) {
        raced |= a.provider_instance_id == id && a.failover_id == failovers[0].failover_id;
      }
      EXPECT_TRUE(raced) << id << " was rented on suspicion but not raced\n" << log_;
    }
  });
}

// A pass of a loop the controller keeps running that throws (a bug, or outside input nothing
// validated) is logged with what failed, escaped, and the loop is told to go on.
TEST(ControllerContextTest, AnExceptionEscapingAGuardedPassIsLoggedNotFatal) {
  ControllerContext ctx;
  std::vector<std::string> lines;
  ctx.log = [&](const std::string& line) { lines.push_back(line); };
  int ran = 0;
  EXPECT_TRUE(ctx.Guarded("quiet", [&] { ++ran; }));
  EXPECT_FALSE(ctx.Guarded("llm-1: its supervisor",
                           [] { throw std::runtime_error("bad \xff\x1b[2J byte"); }));
  EXPECT_FALSE(ctx.Guarded("the lister", [] { throw 42; }));
  EXPECT_EQ(ran, 1);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0],
            "llm-1: its supervisor failed unexpectedly (bad \\xff\\x1b[2J byte); it goes on at "
            "its next pass");
  EXPECT_NE(lines[1].find("the lister failed unexpectedly (an exception that is not a "),
            std::string::npos);
}

}  // namespace
}  // namespace standby
