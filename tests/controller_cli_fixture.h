#pragma once

// The fixture of the controller's whole-process tests (controller_cli_test.cc,
// api_cli_test.cc): `standby protect` and `standby serve` as an operator runs them, on the
// local simulated market whose hosts are real sshd hosts running the real agent, with a
// workload that is a small HTTP server answering from the workspace's files. Every test
// leaves no instance.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <thread>

#include "base/strings.h"
#include "env/local_sshd.h"
#include "env/loopback.h"
#include "testing/child_process.h"
#include "testing/postgres.h"
#include "tests/cli_runner.h"

namespace standby {

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
  // From here on the local market boots its machines in about `boot_s` seconds (the p90 one
  // later), so a race can be caught under way; returns the profile's path.
  std::string UseSlowMarket(int boot_s) {
    const std::string path = dir_.Sub("slow.toml");
    WriteFile(path, "name = \"slow\"\nboot_median_s = " + std::to_string(boot_s) +
                        "\nboot_p90_s = " + std::to_string(boot_s + boot_s / 6) +
                        "\nnever_ready_share = 0\nexit_during_boot_share = 0\ntime_scale = 1.0\n"
                        "offline_lag_s = 1\n[[gpu]]\nname = \"RTX 4090\"\ngpu_ram_gb = 24\n"
                        "price_per_hour = 0.40\nreliability = 0.99\ndownload_mbps = 900\n"
                        "machines = 8\nregion = \"US\"\n");
    extra_env_ += " STANDBY_MARKET=" + path;
    return path;
  }
  ProcessRun Protect(const std::string& extra = "") {
    return Standby("protect llm-1 --provision --gpu 'RTX 4090' --workload " + Workload() +
                       " --health-url http://127.0.0.1:" + std::to_string(port_) +
                       "/health.txt --probe-interval 500 --snapshot-every 0 --json " + extra,
                   Env());
  }
  // `serve`, run from the test's directory like every command here, so that it reads the
  // .env there (DATABASE_URL, VAST_API_KEY) when a test wrote one.
  void StartServe() {
    std::vector<std::string> args = {"sh",
                                     "-c",
                                     "cd \"$0\" && exec \"$@\"",
                                     dir_.path(),
                                     "env",
                                     "STANDBY_STATE_DIR=" + dir_.Sub("state"),
                                     "STANDBY_REPO=" + repo_};
    for (const std::string& e : SplitEnv(extra_env_)) args.push_back(e);
    args.insert(args.end(),
                {Binary(), "serve", "--probe-interval", "500", "--listen", "127.0.0.1:0"});
    args.insert(args.end(), serve_args_.begin(), serve_args_.end());
    auto pid = SpawnChild(args, dir_.Sub("serve.log"));
    ASSERT_TRUE(pid.has_value());
    serve_ = *pid;
    ASSERT_TRUE(WaitFor([&] { return ServeLog().find("started on") != std::string::npos; }, 30))
        << ServeLog();
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
  // A local market host's directory, its workspace, and the agent's record of the workload
  // it started there (the file stays when the workload dies; absent when none was started).
  std::string HostDir(const std::string& instance_id) {
    return dir_.Sub("state/market/hosts/" + instance_id);
  }
  std::string HostWorkspace(const std::string& instance_id) {
    return HostDir(instance_id) + "/workspace";
  }
  static std::string WorkloadPidFileUnder(const std::string& home) {
    return home + "/.local/state/standby-agent/llm-1/workload.pid";
  }
  std::string WorkloadPidFile(const std::string& instance_id) {
    return WorkloadPidFileUnder(HostDir(instance_id) + "/home");
  }
  // Stops (SIGSTOP) or resumes (SIGCONT) every process of a local market host (an SSH stall),
  // except those of the session `spared` leads (a workload that answers on).
  void SignalHost(const std::string& instance_id, int sig, pid_t spared = 0) {
    const pid_t supervisor = std::atoi(ReadFile(HostDir(instance_id) + "/supervisor.pid").c_str());
    ASSERT_GT(supervisor, 1);
    for (pid_t pid : DescendantsOf(supervisor)) {
      if (spared == 0 || ::getsid(pid) != spared) ::kill(pid, sig);
    }
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

  // A PG_ test's database: a member, so that it outlives TearDown, whose cleanup of rented
  // machines reads the database (a server stopped with the test body leaked them).
  std::unique_ptr<PostgresServer> pg_;
  int port_ = 0;
  pid_t serve_ = -1;
  std::vector<std::string> serve_args_;  // more options for `serve`
  std::string repo_ = dir_.Sub("repo");
  std::string extra_env_;
};

}  // namespace standby
