// The failover controller as an operator runs it: `standby protect`, `standby serve` as a
// separate process, `market kill`, `status`, `events`, `failover`, on the local simulated
// market whose hosts are real sshd hosts running the real agent, with a workload that is a
// small HTTP server answering from the workspace's files. Every test leaves no instance.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "base/strings.h"
#include "env/http_client.h"
#include "env/http_server.h"
#include "env/local_sshd.h"
#include "env/loopback.h"
#include "testing/child_process.h"
#include "testing/postgres.h"
#include "testing/s3rver.h"
#include "testing/sshd.h"
#include "tests/controller_cli_fixture.h"

namespace standby {
namespace {

TEST_F(ControllerCliTest, SSH_AKilledHostIsReplacedAndAnswersTheSameContent) {
  Seed();
  ProcessRun placed = Protect();
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  const nlohmann::json before = placed.json();
  EXPECT_EQ(before["state"], "healthy");
  EXPECT_EQ(Fetch("/model.txt"), RandomBytes(1 << 20, 7));
  StartServe();
  ASSERT_EQ(
      Standby("market kill " + before["provider_instance_id"].get<std::string>(), Env()).exit_code,
      0);
  ASSERT_TRUE(WaitFor([&] { return FailoversFinished(1); }, 90)) << ServeLog();
  auto failovers = Failovers();
  ASSERT_EQ(failovers.size(), 1u) << ServeLog();
  const nlohmann::json& e = failovers[0];
  EXPECT_TRUE(e["success"].get<bool>()) << e.dump();
  EXPECT_EQ(e["trigger"], "host_dead");
  EXPECT_EQ(e["original_instance_id"], before["provider_instance_id"]);
  EXPECT_EQ(e["original_ssh_port"], before["ssh_port"]);
  EXPECT_EQ(e["fence"], "confirmed");
  for (const char* field :
       {"detection_ms", "gpu_provisioning_time_ms", "restore_ms", "validation_ms",
        "workload_start_ms", "health_check_ms", "total_ms", "files_restored", "files_expected",
        "bytes_restored", "candidates_launched", "rounds", "new_ssh_port"}) {
    EXPECT_TRUE(e[field].is_number()) << field;
  }
  for (const char* field : {"gpu_provisioning_time_ms", "restore_ms", "total_ms", "files_restored",
                            "candidates_launched", "rounds", "new_ssh_port"}) {
    EXPECT_GT(e[field].get<int64_t>(), 0) << field;
  }
  EXPECT_EQ(e["files_restored"], e["files_expected"]);
  EXPECT_FALSE(e["snapshot_id"].get<std::string>().empty());
  EXPECT_FALSE(e["new_instance_id"].get<std::string>().empty());
  EXPECT_NE(ServeLog().find("host dead"), std::string::npos) << ServeLog();
  // The new host answers the same content, and it is all that is left.
  EXPECT_EQ(Fetch("/model.txt"), RandomBytes(1 << 20, 7));
  nlohmann::json after = Instance();
  EXPECT_EQ(after["provider_instance_id"], e["new_instance_id"]);
  EXPECT_EQ(after["state"], "healthy");
  EXPECT_EQ(after["failovers"], 1);
  EXPECT_EQ(after["last_mttr_ms"], e["total_ms"]);
  EXPECT_EQ(LiveInstances(), 1u);
}

TEST_F(ControllerCliTest, SSH_AReplacementKilledDuringItsRestoreIsReplacedAgain) {
  Seed(192 << 20);  // a restore long enough to be caught in the middle
  ProcessRun placed = Protect();
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  StartServe();
  KillHost(placed.json()["provider_instance_id"]);
  std::string doomed;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto f = Failovers();
        if (f.empty() || f[0]["phase"] != "restoring") return false;
        doomed = f[0]["new_instance_id"];
        return true;
      },
      90))
      << ServeLog();
  ProcessRun killed = Standby("market kill " + doomed, Env());
  ASSERT_EQ(killed.exit_code, 0) << killed.err << ServeLog();
  ASSERT_TRUE(WaitFor([&] { return FailoversFinished(1); }, 120)) << ServeLog();
  auto failovers = Failovers();
  ASSERT_EQ(failovers.size(), 1u);
  const nlohmann::json& e = failovers[0];
  EXPECT_TRUE(e["success"].get<bool>()) << e.dump() << ServeLog();
  EXPECT_EQ(e["attempts"], 2) << e.dump();
  EXPECT_NE(e["new_instance_id"], doomed);
  // Killed while restoring; on a slow machine the restore may just have finished, and the
  // death is seen by the step that follows (validating, or starting once fenced).
  const std::string note = e["note"];
  EXPECT_NE(note.find("replacement " + doomed + " failed while "), std::string::npos) << note;
  EXPECT_EQ(Fetch("/health.txt"), "ok");
  EXPECT_EQ(LiveInstances(), 1u);  // the killed replacement was destroyed too
}

TEST_F(ControllerCliTest, SSH_AControllerKilledInAnyPhaseFinishesTheFailoverOnceAfterARestart) {
  Seed(128 << 20);
  // A workload that takes a second to answer, so `checking` can be caught.
  ProcessRun placed =
      Standby("protect llm-1 --provision --gpu 'RTX 4090' --workload " + Workload("sleep 1.5; ") +
                  " --health-url http://127.0.0.1:" + std::to_string(port_) +
                  "/health.txt --probe-interval 500 --snapshot-every 0 --json",
              Env());
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  StartServe();
  size_t done = 0;
  for (const char* phase : {"replacing", "restoring", "checking"}) {
    SCOPED_TRACE(phase);
    std::string host = Instance()["provider_instance_id"];
    ASSERT_EQ(Standby("market kill " + host, Env()).exit_code, 0);
    ASSERT_TRUE(WaitFor(
        [&] {
          auto f = Failovers();
          return f.size() > done && f[0]["phase"] == phase;
        },
        90))
        << ServeLog();
    // SIGKILL in two phases; in `restoring`, SIGTERM: a safe stop that persists the phase.
    if (std::string(phase) == "restoring") {
      TermServe();
    } else {
      KillServe();
    }
    StartServe();
    ASSERT_TRUE(WaitFor([&] { return FailoversFinished(done + 1); }, 120)) << ServeLog();
    ++done;
    auto failovers = Failovers();
    ASSERT_EQ(failovers.size(), done) << "one failover per kill, never two";
    EXPECT_TRUE(failovers[0]["success"].get<bool>()) << failovers[0].dump();
    // A SIGTERM'd controller says where it paused; the restore may have finished between the
    // test seeing `restoring` and the signal landing, so any later phase is as good.
    std::string resumed_from = phase;
    const std::string paused = "paused in ";
    if (size_t at = ServeLog().find(failovers[0]["failover_id"].get<std::string>() + " " + paused);
        std::string(phase) == "restoring" && at != std::string::npos) {
      const std::string log = ServeLog();
      const size_t from = log.find(paused, at) + paused.size();
      resumed_from = log.substr(from, log.find(':', from) - from);
      EXPECT_TRUE(resumed_from == "restoring" || resumed_from == "validating" ||
                  resumed_from == "fencing" || resumed_from == "starting")
          << resumed_from;
    }
    EXPECT_NE(
        ServeLog().find("resuming failover " + failovers[0]["failover_id"].get<std::string>() +
                        " from " + resumed_from),
        std::string::npos)
        << ServeLog();
    EXPECT_EQ(Fetch("/health.txt"), "ok");
    EXPECT_EQ(LiveInstances(), 1u) << "a controller killed mid-race leaked an instance";
  }
}

// A 4 s SSH stall of a live host: its first failed probe rents machines on suspicion
// (nothing fenced), the host answers again before dead_after failures, every machine rented
// is destroyed, and no failover is recorded.
TEST_F(ControllerCliTest, SSH_AShortSshStallIsNoFailoverAndItsSpeculativeRentalsAreDestroyed) {
  Seed();
  // Probes at least 0.5 s apart: at most 8 fail in 4 s, fewer than dead_after.
  ProcessRun placed = Protect("--probe-timeout 800 --dead-after 10");
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  StartServe();
  const std::string host = placed.json()["provider_instance_id"];
  std::this_thread::sleep_for(std::chrono::seconds(1));
  SignalHost(host, SIGSTOP);
  std::this_thread::sleep_for(std::chrono::seconds(4));
  SignalHost(host, SIGCONT);
  ASSERT_TRUE(WaitFor(
      [&] {
        return ServeLog().find(
                   "the host answered again: destroyed the machine(s) rented on "
                   "suspicion") != std::string::npos;
      },
      30))
      << ServeLog();
  EXPECT_NE(ServeLog().find("host suspect: renting on suspicion, 3 machine(s) loading"),
            std::string::npos)
      << ServeLog();
  EXPECT_NE(ServeLog().find("each confirmed gone"), std::string::npos) << ServeLog();
  EXPECT_TRUE(Failovers().empty()) << ServeLog();
  EXPECT_EQ(Instance()["state"], "healthy") << ServeLog();
  EXPECT_EQ(Instance()["provider_instance_id"], placed.json()["provider_instance_id"]);
  EXPECT_EQ(LiveInstances(), 1u) << ServeLog();
  EXPECT_EQ(Fetch("/health.txt"), "ok");
}

TEST_F(ControllerCliTest, SSH_AWorkloadCrashIsRestartedInPlaceAndACrashLoopFailsOver) {
  Seed();
  ProcessRun placed = Standby("protect llm-1 --provision --gpu 'RTX 4090' --workload " +
                                  Workload("test -f crash-loop && exit 1; ") +
                                  " --health-url http://127.0.0.1:" + std::to_string(port_) +
                                  "/health.txt --probe-interval 500 --snapshot-every 0 --json",
                              Env());
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  const std::string host = placed.json()["provider_instance_id"];
  StartServe();
  const std::string pid_file = WorkloadPidFile(host);
  auto kill_workload = [&] {
    pid_t pid = std::atoi(ReadFile(pid_file).c_str());
    ASSERT_GT(pid, 1);
    ::kill(-pid, SIGKILL);
  };
  kill_workload();
  ASSERT_TRUE(WaitFor(
      [&] { return ServeLog().find("workload restarted in place") != std::string::npos; }, 20))
      << ServeLog();
  ASSERT_TRUE(WaitFor([&] { return Fetch("/health.txt") == "ok"; }, 20));
  EXPECT_TRUE(Failovers().empty());
  EXPECT_EQ(Instance()["provider_instance_id"], host);
  // Now it cannot start any more on this host: restarts run out, then it moves.
  WriteFile(HostWorkspace(host) + "/crash-loop", "");
  kill_workload();
  ASSERT_TRUE(WaitFor([&] { return FailoversFinished(1); }, 120)) << ServeLog();
  auto failovers = Failovers();
  ASSERT_EQ(failovers.size(), 1u);
  EXPECT_EQ(failovers[0]["trigger"], "workload_unhealthy");
  EXPECT_TRUE(failovers[0]["success"].get<bool>()) << failovers[0].dump();
  EXPECT_NE(ServeLog().find("restart 2 of 2"), std::string::npos) << ServeLog();
  EXPECT_EQ(Fetch("/health.txt"), "ok");
  EXPECT_EQ(LiveInstances(), 1u);
}

TEST_F(ControllerCliTest, SSH_APlannedFailoverCarriesAFileWrittenJustBefore) {
  Seed();
  ProcessRun placed = Protect();
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  StartServe();
  WriteFile(HostWorkspace(placed.json()["provider_instance_id"]) + "/written-just-now.txt",
            "the last training step");
  ProcessRun moved = Standby("failover llm-1 --planned --wait --json", Env());
  ASSERT_EQ(moved.exit_code, 0) << moved.err << ServeLog();
  nlohmann::json e = moved.json();
  EXPECT_TRUE(e["success"].get<bool>());
  EXPECT_EQ(e["trigger"], "planned");
  EXPECT_NE(e["new_instance_id"], placed.json()["provider_instance_id"]);
  EXPECT_NE(moved.err.find(" done: MTTR "), std::string::npos) << moved.err;  // it followed it
  EXPECT_EQ(Fetch("/written-just-now.txt"), "the last training step");
  EXPECT_EQ(ReadFile(HostWorkspace(e["new_instance_id"]) + "/written-just-now.txt"),
            "the last training step");
  EXPECT_EQ(LiveInstances(), 1u);
}

// `standby drill`: the local market's host is killed for real and the running controller
// detects and recovers it; the timeline and the MTTR table beside the history are printed;
// a planned drill moves the instance with nothing lost. Both are recorded as drills.
TEST_F(ControllerCliTest, SSH_AKillDrillAndAPlannedDrillAreRecoveredAndTabulated) {
  Seed();
  ProcessRun placed = Protect();
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  const std::string before = Fetch("/model.txt");
  ASSERT_EQ(before, RandomBytes(1 << 20, 7));
  StartServe();
  ProcessRun killed = Standby("drill llm-1 --wait --timeout 120", Env());
  ASSERT_EQ(killed.exit_code, 0) << killed.err << ServeLog();
  for (const char* step : {"detected (drill)", "fenced: the old host is destroyed (confirmed)",
                           "race won by", "validation passed", "health check passed"}) {
    EXPECT_NE(killed.err.find(step), std::string::npos) << step << " in\n" << killed.err;
  }
  EXPECT_NE(killed.out.find("this drill"), std::string::npos) << killed.out;
  EXPECT_NE(killed.out.find("(1 failover)"), std::string::npos) << killed.out;
  EXPECT_NE(killed.out.find("107.9 s measured"), std::string::npos) << killed.out;
  EXPECT_NE(ServeLog().find("drill: killed its host " +
                            placed.json()["provider_instance_id"].get<std::string>()),
            std::string::npos)
      << ServeLog();
  EXPECT_EQ(Fetch("/model.txt"), before);

  ProcessRun planned = Standby("drill llm-1 --planned --wait --timeout 120 --json", Env());
  ASSERT_EQ(planned.exit_code, 0) << planned.err << ServeLog();
  nlohmann::json result = planned.json();
  EXPECT_EQ(result["failover"]["trigger"], "drill");
  EXPECT_TRUE(result["failover"]["planned"].get<bool>());
  EXPECT_TRUE(result["failover"]["success"].get<bool>());
  EXPECT_EQ(result["history"]["failovers"], 2);
  EXPECT_GT(result["history"]["total_ms"]["p90"].get<double>(), 0);
  EXPECT_EQ(Fetch("/model.txt"), before);
  std::vector<nlohmann::json> failovers = Failovers();
  ASSERT_EQ(failovers.size(), 2u);
  for (const nlohmann::json& f : failovers) EXPECT_EQ(f["trigger"], "drill");
  EXPECT_EQ(LiveInstances(), 1u);

  ProcessRun both = Standby("drill llm-1 --kill --planned", Env());
  EXPECT_EQ(both.exit_code, 2) << both.err;
}

// The HTTP API of a running serve: the listening line, the token from `standby token
// show`, the instance's status, the fast-failover endpoint moving it for real, the
// failover's phases, and /metrics counting it.
TEST_F(ControllerCliTest, SSH_FailoverWithoutARunningControllerSaysSo) {
  Seed();
  ASSERT_EQ(Protect().exit_code, 0);
  ProcessRun refused = Standby("failover llm-1", Env());
  EXPECT_EQ(refused.exit_code, 1);
  ASSERT_EQ(refused.ErrorLines().size(), 1u) << refused.err;
  EXPECT_NE(refused.ErrorLines()[0].find("no controller is running"), std::string::npos);
  ProcessRun unknown = Standby("failover nobody", Env());
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no protected instance named nobody"), std::string::npos);
  // Maintenance mode needs no controller: it is a state in the store.
  ProcessRun paused = Standby("pause llm-1 --json", Env());
  ASSERT_EQ(paused.exit_code, 0) << paused.err;
  EXPECT_EQ(paused.json()["state"], "paused");
  EXPECT_EQ(Instance()["state"], "paused");
  ProcessRun resumed = Standby("resume llm-1", Env());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(resumed.out, "llm-1 healthy\n");
  ProcessRun pause_unknown = Standby("pause nobody", Env());
  EXPECT_EQ(pause_unknown.exit_code, 1);
  ASSERT_EQ(pause_unknown.ErrorLines().size(), 1u) << pause_unknown.err;
  EXPECT_NE(pause_unknown.err.find("no protected instance named nobody"), std::string::npos);

  // `doctor` reaches every protected instance's agent, and says when one does not answer.
  auto instance_check = [&] {
    ProcessRun doctor = Standby("doctor --json", Env());
    const nlohmann::json parsed = doctor.json();  // a failed doctor's report is in its error
    const nlohmann::json report = parsed.contains("error") ? parsed["error"]["details"] : parsed;
    for (const auto& c : report["checks"]) {
      if (c["check"] == "instance llm-1") return std::make_pair(doctor.exit_code, c);
    }
    return std::make_pair(doctor.exit_code, nlohmann::json());
  };
  auto [healthy_exit, healthy] = instance_check();
  EXPECT_EQ(healthy_exit, 0);
  EXPECT_EQ(healthy["outcome"], "ok") << healthy.dump();
  EXPECT_NE(healthy.value("detail", "").find("answers (agent protocol"), std::string::npos);
  KillHost(Instance()["provider_instance_id"]);
  auto [dead_exit, dead] = instance_check();
  EXPECT_EQ(dead_exit, 1);
  EXPECT_EQ(dead["outcome"], "failed") << dead.dump();
  EXPECT_NE(dead.value("fix", "").find("standby status llm-1"), std::string::npos);
}

TEST_F(ControllerCliTest, SSH_PeriodicSnapshotsAreTakenPrunedShownAndAStoreOutageIsOnlyCounted) {
  auto s3 = S3rver::Start();
  ASSERT_TRUE(s3.has_value()) << s3.error().message;
  UseS3(**s3, "S3RVER");
  Seed();
  ProcessRun placed =
      Standby("protect llm-1 --provision --gpu 'RTX 4090' --workload " + Workload() +
                  " --health-url http://127.0.0.1:" + std::to_string(port_) +
                  "/health.txt --probe-interval 500 --snapshot-every 2s --keep-last 2 --json",
              Env());
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  StartServe();
  std::set<std::string> seen;
  ASSERT_TRUE(WaitFor(
      [&] {
        nlohmann::json i = Instance();
        if (i["last_snapshot_id"].is_string()) seen.insert(i["last_snapshot_id"]);
        return seen.size() >= 3;
      },
      60))
      << ServeLog();
  ProcessRun listed = Standby("snapshot list --instance llm-1 --json", Env());
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_LE(listed.json()["count"].get<int>(), 3);  // kept 2, plus one being written
  ProcessRun text = Standby("status llm-1", Env());
  EXPECT_NE(text.out.find("Last snapshot: "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("seconds ago"), std::string::npos) << text.out;
  // The first snapshot after the restore re-reads every file (new inodes) and uploads
  // nothing: every chunk is stored already.
  EXPECT_NE(ServeLog().find("0B uploaded"), std::string::npos) << ServeLog();
  // The store goes away: snapshots fail and are counted; the instance stays healthy.
  s3->reset();
  ASSERT_TRUE(WaitFor([&] { return Instance()["snapshot_failures"].get<int>() >= 1; }, 90))
      << ServeLog();
  EXPECT_EQ(Instance()["state"], "healthy");
  EXPECT_TRUE(Failovers().empty()) << ServeLog();
  EXPECT_NE(ServeLog().find("snapshot failed"), std::string::npos);
  StopServe();  // before the test's store directory goes
}

// The failover path on an S3 repository: the replacement restores straight from the store
// with grants only. No file on any host, and no process of the market, ever holds the
// controller's secret.
TEST_F(ControllerCliTest, S3_SSH_AFailoverFromS3LeavesNoKeyOnAnyHost) {
  auto s3 = S3rver::Start();
  ASSERT_TRUE(s3.has_value()) << s3.error().message;
  const std::string secret = "controller-secret-" + RandomHex(8);  // s3rver checks no signature
  UseS3(**s3, secret);
  Seed();
  ProcessRun placed = Protect();
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  StartServe();
  KillHost(placed.json()["provider_instance_id"]);
  ASSERT_TRUE(WaitFor([&] { return FailoversFinished(1); }, 90)) << ServeLog();
  auto failovers = Failovers();
  ASSERT_EQ(failovers.size(), 1u);
  EXPECT_TRUE(failovers[0]["success"].get<bool>()) << failovers[0].dump();
  EXPECT_EQ(Fetch("/model.txt"), RandomBytes(1 << 20, 7));
  size_t files = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(dir_.Sub("state/market/hosts"))) {
    if (!entry.is_regular_file()) continue;
    ++files;
    EXPECT_EQ(ReadFile(entry.path().string()).find(secret), std::string::npos)
        << "the secret is in " << entry.path();
  }
  EXPECT_GT(files, 4u);
  EXPECT_EQ(ServeLog().find(secret), std::string::npos);
  EXPECT_EQ(LiveInstances(), 1u);
  StopServe();  // before the test's store goes
}

// On the Vast.ai API (the fake one, whose running instances are a real sshd host): the
// provider's API failing, then unreachable, while the host answers, is no failover; and a
// controller that reaches neither the host, the provider nor the store is isolated and
// fails over nothing.
TEST_F(ControllerCliTest, SSH_NoFailoverForAnApiOutageOrAnIsolatedController) {
  auto s3 = S3rver::Start();
  ASSERT_TRUE(s3.has_value()) << s3.error().message;
  ProcessRun key = Standby("ssh-key", Env());
  ASSERT_EQ(key.exit_code, 0);
  auto host = SshdHost::Start(key.out.substr(0, key.out.find('\n')));
  ASSERT_TRUE(host.has_value());
  int api_port = FreeLoopbackPort();
  const std::string api_key = "vast-controller-test-key-51c2";
  auto fake = SpawnChild({"node", SourceDir() + "/tests/tools/fake_vast.js",
                          std::to_string(api_port), api_key, std::to_string((*host)->port())},
                         dir_.Sub("fake_vast.log"));
  ASSERT_TRUE(fake.has_value());
  ASSERT_TRUE(WaitForPort(api_port, 10000));
  WriteFile(dir_.Sub(".env"), "VAST_API_KEY=" + api_key + "\n");
  repo_ = "s3://" + (*s3)->bucket() + "/standby";
  extra_env_ = " STANDBY_PROVIDER=vast VAST_URL=http://127.0.0.1:" + std::to_string(api_port) +
               " STANDBY_S3_ENDPOINT=" + (*s3)->endpoint() +
               " AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER";
  std::string user = (*host)->target().substr(0, (*host)->target().find('@'));
  ProcessRun rented = Standby("provision --gpu 'RTX 4090' --ssh-user " + user + " --json", Env());
  ASSERT_EQ(rented.exit_code, 0) << rented.err;
  std::string id = rented.json()["winner"]["instance_id"];
  ProcessRun adopted = Standby("protect llm-1 --instance-id " + id + " --ssh-user " + user +
                                   " --workspace " + dir_.Sub("vast-ws") +
                                   " --probe-interval 500 --probe-timeout 800 --snapshot-every 0",
                               Env());
  ASSERT_EQ(adopted.exit_code, 0) << adopted.err;
  StartServe();  // from the test's directory: it reads the .env with the API key
  ASSERT_TRUE(WaitFor([&] { return ServeLog().find("watching") != std::string::npos; }, 30))
      << ServeLog();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  // The API answers 503 for a while, then is not there at all: the host answers throughout.
  HttpPost(api_port, "{\"outage\": 503}");
  std::this_thread::sleep_for(std::chrono::seconds(4));
  StopChild(*fake);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_TRUE(Failovers().empty()) << ServeLog();
  EXPECT_EQ(Instance()["state"], "healthy") << ServeLog();
  // Now the host stalls and the store is gone too: the controller is the one cut off.
  s3->reset();
  for (pid_t p : (*host)->SessionProcesses()) ::kill(p, SIGSTOP);
  ::kill((*host)->pid(), SIGSTOP);
  std::this_thread::sleep_for(std::chrono::seconds(5));
  for (pid_t p : (*host)->SessionProcesses()) ::kill(p, SIGCONT);
  ::kill((*host)->pid(), SIGCONT);
  EXPECT_TRUE(Failovers().empty()) << ServeLog();
  EXPECT_NE(ServeLog().find("cut off"), std::string::npos) << ServeLog();
  StopServe();
  Standby("unprotect llm-1", Env());
  extra_env_.clear();  // the fake API is gone: nothing of it to clean up
}

TEST_F(ControllerCliTest, PG_SSH_AKilledHostIsReplacedWithPostgresAsTheStateStore) {
  auto started = PostgresServer::Start();
  ASSERT_TRUE(started.has_value()) << started.error().message;
  pg_ = std::move(*started);
  PostgresServer* pg = pg_.get();
  WriteFile(dir_.Sub(".env"), "DATABASE_URL=" + pg->url() + "\n");  // a secret: not argv
  Seed();
  ProcessRun placed = Protect();
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  StartServe();
  EXPECT_NE(ServeLog().find("postgresql://"), std::string::npos) << ServeLog();
  EXPECT_EQ(ServeLog().find(pg->password()), std::string::npos);
  KillHost(placed.json()["provider_instance_id"]);
  ASSERT_TRUE(WaitFor([&] { return FailoversFinished(1); }, 90)) << ServeLog();
  auto failovers = Failovers();
  ASSERT_EQ(failovers.size(), 1u);
  EXPECT_TRUE(failovers[0]["success"].get<bool>());
  EXPECT_EQ(Fetch("/model.txt"), RandomBytes(1 << 20, 7));
  EXPECT_EQ(LiveInstances(), 1u);
  StopServe();
}

// The state database fails under a running failover as managed PostgreSQL does: restarted
// (connections cut, 57P01/08006 while it is down), then read-only (25006, a standby being
// promoted). The failover goes on through the spool and the retries and completes once.
TEST_F(ControllerCliTest, PG_SSH_AFailoverCompletesOnceThroughADatabaseRestartAndReadOnlySpell) {
  auto started = PostgresServer::Start();
  ASSERT_TRUE(started.has_value()) << started.error().message;
  pg_ = std::move(*started);
  PostgresServer* pg = pg_.get();
  WriteFile(dir_.Sub(".env"), "DATABASE_URL=" + pg->url() + "\n");
  Seed();
  ProcessRun placed = Protect();
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  UseSlowMarket(6);  // from here on, so the database can fail while the race runs
  StartServe();
  KillHost(placed.json()["provider_instance_id"]);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto f = Failovers();
        return !f.empty() && f[0]["phase"] == "replacing";
      },
      60))
      << ServeLog();
  ASSERT_TRUE(pg->Stop());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_TRUE(pg->Restart());
  // Read-only for new sessions, and the controller's sessions cut so that it reconnects.
  ASSERT_TRUE(
      pg->Psql("ALTER DATABASE standby SET default_transaction_read_only = on", "postgres"));
  ASSERT_TRUE(
      pg->Psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
               "datname = 'standby' AND pid <> pg_backend_pid()",
               "postgres"));
  EXPECT_TRUE(
      WaitFor([&] { return ServeLog().find("read-only transaction") != std::string::npos; }, 30))
      << ServeLog();
  ASSERT_TRUE(
      pg->Psql("ALTER DATABASE standby SET default_transaction_read_only = off", "postgres"));
  ASSERT_TRUE(
      pg->Psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
               "datname = 'standby' AND pid <> pg_backend_pid()",
               "postgres"));
  ASSERT_TRUE(WaitFor([&] { return FailoversFinished(1); }, 120)) << ServeLog();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // a second failover would begin here
  auto failovers = Failovers();
  ASSERT_EQ(failovers.size(), 1u) << ServeLog();
  EXPECT_TRUE(failovers[0]["success"].get<bool>()) << failovers[0].dump();
  EXPECT_EQ(Instance()["state"], "healthy") << ServeLog();
  EXPECT_EQ(Fetch("/model.txt"), RandomBytes(1 << 20, 7));
  EXPECT_EQ(LiveInstances(), 1u) << ServeLog();
  StopServe();
}

// `protect --provision` killed (kill -9) mid-race while `serve` runs: serve leaves the
// placement to its process while the claim is renewed, takes it over once the claim has
// expired, destroys what the dead race left rented and finishes the placement, once.
TEST_F(ControllerCliTest, SSH_AProtectKilledMidRaceIsFinishedByServeOnceItsClaimExpires) {
  Seed();
  const std::string slow = UseSlowMarket(12);  // so the race can be caught under way
  StartServe();
  std::vector<std::string> args = {"env", "STANDBY_STATE_DIR=" + dir_.Sub("state"),
                                   "STANDBY_REPO=" + repo_, "STANDBY_MARKET=" + slow};
  args.insert(args.end(),
              {Binary(), "protect", "llm-1", "--provision", "--gpu", "RTX 4090", "--workload",
               "exec python3 -m http.server --bind 127.0.0.1 " + std::to_string(port_),
               "--health-url", "http://127.0.0.1:" + std::to_string(port_) + "/health.txt",
               "--probe-interval", "500", "--snapshot-every", "0"});
  auto protect = SpawnChild(args, dir_.Sub("protect.log"));
  ASSERT_TRUE(protect.has_value());
  auto placement = [&]() -> nlohmann::json {
    ProcessRun events = Standby("events llm-1 --json", Env());
    if (events.exit_code != 0) return nullptr;
    const nlohmann::json parsed = events.json();  // alive for the whole loop
    for (const auto& e : parsed["events"]) {
      if (e["trigger"] == "initial") return e;
    }
    return nullptr;
  };
  ASSERT_TRUE(WaitFor(
      [&] {
        nlohmann::json p = placement();
        return !p.is_null() && p["phase"] == "replacing";
      },
      60))
      << ReadFile(dir_.Sub("protect.log"));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // machines are being rented
  ::kill(*protect, SIGKILL);
  ::waitpid(*protect, nullptr, 0);
  ASSERT_TRUE(WaitFor([&] { return Instance()["state"] == "healthy"; }, 150))
      << ServeLog() << ReadFile(dir_.Sub("protect.log"));
  nlohmann::json placed = placement();
  EXPECT_TRUE(placed["success"].get<bool>()) << placed.dump();
  const std::string id = placed["failover_id"];
  const std::string log = ServeLog();
  // Left to protect (its claim names its pid) while it lived.
  EXPECT_NE(log.find(id + " is run by "), std::string::npos) << log;
  EXPECT_NE(log.find(":" + std::to_string(*protect) + ":"), std::string::npos) << log;
  EXPECT_NE(log.find("resuming failover " + id), std::string::npos) << log;
  EXPECT_EQ(Fetch("/health.txt"), "ok");
  EXPECT_TRUE(WaitFor([&] { return LiveInstances() == 1u; }, 60))
      << "the killed race left machines rented: " << LiveInstances() << "\n"
      << ServeLog();
  StopServe();
}

}  // namespace
}  // namespace standby
