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
#include "tests/cli_runner.h"

namespace standby {
namespace {

class ControllerCliTest : public CliTest {
 protected:
  void SetUp() override { port_ = FreeLoopbackPort(); }
  void TearDown() override {
    StopServe();
    ProcessRun left = Standby("instances --all --json", Env());
    if (left.exit_code == 0) {
      const nlohmann::json parsed = left.json();
      for (const auto& i : parsed["instances"]) {
        Standby("destroy " + i["instance_id"].get<std::string>(), Env());
      }
    }
  }

  std::string Env() {
    return "STANDBY_STATE_DIR=" + dir_.Sub("state") + " STANDBY_REPO=" + repo_ + extra_env_;
  }
  std::string Binary() { return BuiltBinary("standby"); }
  // A first snapshot of llm-1: what --provision restores onto its first host.
  void Seed(size_t model_bytes = 1 << 20) {
    WriteFile(dir_.Sub("seed/model.txt"), RandomBytes(model_bytes, 7));
    WriteFile(dir_.Sub("seed/health.txt"), "ok");
    ProcessRun snap =
        Standby("snapshot create --instance llm-1 --workspace " + dir_.Sub("seed"), Env());
    ASSERT_EQ(snap.exit_code, 0) << snap.err;
  }
  std::string Workload(const std::string& before = "") {
    return "'" + before + "exec python3 -m http.server --bind 127.0.0.1 " + std::to_string(port_) +
           "'";
  }
  void KillHost(const std::string& provider_instance_id) {
    ProcessRun killed = Standby("market kill " + provider_instance_id, Env());
    ASSERT_EQ(killed.exit_code, 0) << killed.err;
  }
  // The repository becomes a bucket of `s3`, reached with the key S3RVER and `secret`.
  void UseS3(const S3rver& s3, const std::string& secret) {
    repo_ = "s3://" + s3.bucket() + "/standby";
    extra_env_ = " STANDBY_S3_ENDPOINT=" + s3.endpoint() +
                 " AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=" + secret;
  }
  ProcessRun Protect(const std::string& extra = "") {
    return Standby("protect llm-1 --provision --gpu 'RTX 4090' --workload " + Workload() +
                       " --health-url http://127.0.0.1:" + std::to_string(port_) +
                       "/health.txt --probe-interval 500 --snapshot-every 0 --json " + extra,
                   Env());
  }
  void StartServe() {
    std::vector<std::string> args = {"env", "STANDBY_STATE_DIR=" + dir_.Sub("state"),
                                     "STANDBY_REPO=" + repo_};
    for (const std::string& e : SplitEnv(extra_env_)) args.push_back(e);
    args.insert(args.end(),
                {Binary(), "serve", "--probe-interval", "500", "--listen", "127.0.0.1:0"});
    args.insert(args.end(), serve_args_.begin(), serve_args_.end());
    auto pid = SpawnChild(args, dir_.Sub("serve.log"));
    ASSERT_TRUE(pid.has_value());
    serve_ = *pid;
    ASSERT_TRUE(WaitFor([&] { return ServeLog().find("started on") != std::string::npos; }, 30));
  }
  void StopServe() {
    if (serve_ > 0) StopChild(serve_);
    serve_ = -1;
  }
  void KillServe() {  // SIGKILL: no chance to persist anything
    ::kill(serve_, SIGKILL);
    ::waitpid(serve_, nullptr, 0);
    serve_ = -1;
  }
  // SIGTERM: serve stops at a safe point and exits 0 (bounded wait).
  void TermServe() {
    ::kill(serve_, SIGTERM);
    int status = -1;
    bool exited = WaitFor([&] { return ::waitpid(serve_, &status, WNOHANG) == serve_; }, 60);
    EXPECT_TRUE(exited) << "serve did not stop within 60 s of SIGTERM\n" << ServeLog();
    if (!exited) {
      ::kill(serve_, SIGKILL);
      ::waitpid(serve_, nullptr, 0);
    } else {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ServeLog();
    }
    serve_ = -1;
    EXPECT_NE(ServeLog().find("stopped"), std::string::npos) << ServeLog();
  }
  std::string ServeLog() { return ReadFile(dir_.Sub("serve.log")); }
  static std::vector<std::string> SplitEnv(const std::string& env) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < env.size()) {
      size_t end = env.find(' ', start);
      if (end == std::string::npos) end = env.size();
      if (end > start) out.push_back(env.substr(start, end - start));
      start = end + 1;
    }
    return out;
  }
  // Polls `done` every 100 ms for up to `seconds`.
  static bool WaitFor(const std::function<bool()>& done, int seconds) {
    for (int i = 0; i < seconds * 10; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return done();
  }
  nlohmann::json Instance() {
    ProcessRun status = Standby("status llm-1 --json", Env());
    EXPECT_EQ(status.exit_code, 0) << status.err;
    return status.exit_code == 0 ? status.json()["instances"][0] : nlohmann::json();
  }
  // Failovers (not the first placement), newest first.
  std::vector<nlohmann::json> Failovers() {
    ProcessRun events = Standby("events llm-1 --json", Env());
    EXPECT_EQ(events.exit_code, 0) << events.err;
    std::vector<nlohmann::json> out;
    if (events.exit_code != 0) return out;
    const nlohmann::json parsed = events.json();  // alive for the whole loop
    for (const auto& e : parsed["events"]) {
      if (e["trigger"] != "initial") out.push_back(e);
    }
    return out;
  }
  bool FailoversFinished(size_t n) {
    auto f = Failovers();
    size_t finished = 0;
    for (const auto& e : f) finished += e["completed_at"].get<int64_t>() > 0;
    return finished >= n;
  }
  std::string HostWorkspace(const std::string& instance_id) {
    return dir_.Sub("state/market/hosts/" + instance_id + "/workspace");
  }
  std::string Fetch(const std::string& path) {
    std::string out = dir_.Sub("fetched");
    std::string command =
        "python3 -c 'import sys,urllib.request; sys.stdout.buffer.write("
        "urllib.request.urlopen(\"http://127.0.0.1:" +
        std::to_string(port_) + path + "\", timeout=5).read())' > " + out + " 2>/dev/null";
    return std::system(command.c_str()) == 0 ? ReadFile(out) : std::string();
  }
  // The instances the market has, and whether each is the one the instance now uses.
  size_t LiveInstances() {
    ProcessRun listed = Standby("instances --all --json", Env());
    return listed.exit_code == 0 ? listed.json()["instances"].size() : 999;
  }

  // POSTs `body` to the fake Vast API's control endpoint.
  static void HttpPost(int port, const std::string& body) {
    std::string command =
        "python3 -c 'import urllib.request; urllib.request.urlopen("
        "urllib.request.Request(\"http://127.0.0.1:" +
        std::to_string(port) + "/_control\", data=b\"\"\"" + body +
        "\"\"\"), timeout=5).read()' >/dev/null 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
  }

  int port_ = 0;
  pid_t serve_ = -1;
  std::vector<std::string> serve_args_;  // more options for `serve`
  std::string repo_ = dir_.Sub("repo");
  std::string extra_env_;
};

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
  // death is seen by the validation that follows.
  const std::string note = e["note"];
  EXPECT_TRUE(note.find("replacement " + doomed + " failed while restoring") != std::string::npos ||
              note.find("replacement " + doomed + " failed while validating") != std::string::npos)
      << note;
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
                  resumed_from == "starting")
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

// Stops (or continues) every process of a local market host: an SSH stall.
void SignalHost(const std::string& host_dir, int sig) {
  pid_t supervisor = std::atoi(ReadFile(host_dir + "/supervisor.pid").c_str());
  for (pid_t pid : DescendantsOf(supervisor)) ::kill(pid, sig);
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
  std::string host_dir =
      dir_.Sub("state/market/hosts/" + placed.json()["provider_instance_id"].get<std::string>());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  SignalHost(host_dir, SIGSTOP);
  std::this_thread::sleep_for(std::chrono::seconds(4));
  SignalHost(host_dir, SIGCONT);
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
  const std::string pid_file = dir_.Sub("state/market/hosts/" + host +
                                        "/home/.local/state/standby-agent/llm-1/workload.pid");
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
TEST_F(ControllerCliTest, SSH_TheApiShowsTheInstanceAndItsFailoverEndpointMovesIt) {
  Seed();
  ProcessRun placed = Protect();
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  // A webhook receiver: the failover's start, phases and end arrive there too.
  std::mutex hooks_mu;
  std::vector<nlohmann::json> hooks;
  auto receiver = HttpServer::Start({.port = 0}, [&](const HttpServerRequest& r) {
    std::lock_guard<std::mutex> lock(hooks_mu);
    hooks.push_back(nlohmann::json::parse(r.body, nullptr, false));
    return HttpServerResponse{200, {}, ""};
  });
  ASSERT_TRUE(receiver.has_value());
  serve_args_ = {"--webhook", "http://127.0.0.1:" + std::to_string((*receiver)->port()) + "/hook"};
  StartServe();
  std::string url;
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::string log = ServeLog();
        const size_t at = log.find("listening on http://127.0.0.1:");
        if (at == std::string::npos) return false;
        url = log.substr(at + 13, log.find('\n', at) - at - 13);
        return true;
      },
      10))
      << ServeLog();
  ProcessRun token = Standby("token show", Env());
  ASSERT_EQ(token.exit_code, 0) << token.err;
  const std::string bearer(TrimWhitespace(token.out));
  EXPECT_EQ(ServeLog().find(bearer), std::string::npos) << "the token is never logged";
  const uint16_t port = static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
  auto call = [&](const std::string& method, const std::string& target, const std::string& body) {
    HttpRequest r;
    r.method = method;
    r.tls = false;
    r.host = "127.0.0.1";
    r.port = port;
    r.target = target;
    r.body = body;
    r.headers = {{"Authorization", "Bearer " + bearer}};
    auto response = MakeHttpClient()->Send(r);
    EXPECT_TRUE(response.has_value());
    return response ? *response : HttpResponse{};
  };
  HttpResponse status = call("GET", "/api/v1/instances/llm-1", "");
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(nlohmann::json::parse(status.body)["state"], "healthy");
  HttpResponse started = call("POST", "/api/v1/instances/llm-1/failover", R"({"planned": true})");
  ASSERT_EQ(started.status, 202) << started.body;
  std::string location;
  for (const auto& [name, value] : started.headers) {
    if (strcasecmp(name.c_str(), "Location") == 0) location = value;
  }
  std::string failover_url;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto request = nlohmann::json::parse(call("GET", location, "").body, nullptr, false);
        failover_url = request.is_object() ? request.value("failover_url", "") : "";
        return !failover_url.empty();
      },
      30))
      << ServeLog();
  nlohmann::json failover;
  ASSERT_TRUE(WaitFor(
      [&] {
        failover = nlohmann::json::parse(call("GET", failover_url, "").body, nullptr, false);
        return failover.is_object() && failover.value("completed_at", int64_t{0}) > 0;
      },
      90))
      << ServeLog();
  EXPECT_TRUE(failover["success"].get<bool>()) << failover.dump();
  EXPECT_EQ(failover["trigger"], "planned");
  EXPECT_GE(failover["phases"].size(), 5u) << failover.dump();
  EXPECT_EQ(Fetch("/model.txt"), RandomBytes(1 << 20, 7));
  HttpResponse metrics = call("GET", "/metrics", "");
  EXPECT_NE(
      metrics.body.find(
          "standby_failovers_total{protected=\"llm-1\",trigger=\"planned\",result=\"success\"} 1"),
      std::string::npos)
      << metrics.body;
  EXPECT_EQ(call("GET", "/api/v1/instances", "").status, 200);
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(hooks_mu);
        return !hooks.empty() && hooks.back()["event"] == "failover.finished";
      },
      10));
  {
    std::lock_guard<std::mutex> lock(hooks_mu);
    EXPECT_EQ(hooks.front()["event"], "failover.started");
    EXPECT_EQ(hooks.front()["failover_id"], failover["failover_id"]);
    EXPECT_GE(hooks.size(), 4u);  // started, phases, finished
    EXPECT_TRUE(hooks.back()["success"].get<bool>());
    EXPECT_NE(hooks.back()["text"].get<std::string>().find("MTTR"), std::string::npos);
  }
  HttpRequest anonymous;
  anonymous.tls = false;
  anonymous.host = "127.0.0.1";
  anonymous.port = port;
  anonymous.target = "/api/v1/instances";
  ASSERT_OK_AND_ASSIGN(HttpResponse refused, MakeHttpClient()->Send(anonymous));
  EXPECT_EQ(refused.status, 401);
}

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
    const nlohmann::json report = doctor.json();
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
  // serve runs in the test's directory so it reads the .env with the API key.
  std::vector<std::string> args = {"sh", "-c",
                                   "cd " + dir_.path() +
                                       " && exec env STANDBY_STATE_DIR=" + dir_.Sub("state") +
                                       " STANDBY_REPO=" + repo_ + extra_env_ + " " + Binary() +
                                       " serve --probe-interval 500 --listen 127.0.0.1:0"};
  auto pid = SpawnChild(args, dir_.Sub("serve.log"));
  ASSERT_TRUE(pid.has_value());
  serve_ = *pid;
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
  auto pg = PostgresServer::Start();
  ASSERT_TRUE(pg.has_value()) << pg.error().message;
  WriteFile(dir_.Sub(".env"), "DATABASE_URL=" + (*pg)->url() + "\n");  // a secret: not argv
  Seed();
  ProcessRun placed = Protect();
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  // serve runs in the test's directory so it reads the same .env.
  std::vector<std::string> args = {"sh", "-c",
                                   "cd " + dir_.path() +
                                       " && exec env STANDBY_STATE_DIR=" + dir_.Sub("state") +
                                       " STANDBY_REPO=" + repo_ + " " + Binary() +
                                       " serve --probe-interval 500 --listen 127.0.0.1:0"};
  auto pid = SpawnChild(args, dir_.Sub("serve.log"));
  ASSERT_TRUE(pid.has_value());
  serve_ = *pid;
  ASSERT_TRUE(WaitFor([&] { return ServeLog().find("postgresql://") != std::string::npos; }, 30))
      << ServeLog();
  EXPECT_EQ(ServeLog().find((*pg)->password()), std::string::npos);
  KillHost(placed.json()["provider_instance_id"]);
  ASSERT_TRUE(WaitFor([&] { return FailoversFinished(1); }, 90)) << ServeLog();
  auto failovers = Failovers();
  ASSERT_EQ(failovers.size(), 1u);
  EXPECT_TRUE(failovers[0]["success"].get<bool>());
  EXPECT_EQ(Fetch("/model.txt"), RandomBytes(1 << 20, 7));
  EXPECT_EQ(LiveInstances(), 1u);
  StopServe();
}

}  // namespace
}  // namespace standby
