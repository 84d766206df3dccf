// The provider commands against the local simulated market — real hosts with real sshd —
// and against a static pool of sshd hosts (SSH_ tests). Every test leaves no instance.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <thread>

#include "base/strings.h"
#include "testing/child_process.h"
#include "testing/postgres.h"
#include "testing/s3rver.h"
#include "testing/sshd.h"
#include "tests/cli_runner.h"

namespace standby {
namespace {

class ProviderCliTest : public CliTest {
 protected:
  std::string Env() { return "STANDBY_STATE_DIR=" + dir_.Sub("state"); }
  // The fake Vast API's /_control on `port`: POSTs `body` (GETs when empty), returns the answer.
  std::string FakeVastControl(int port, const std::string& body) {
    WriteFile(dir_.Sub("control.in"), body);
    const std::string command =
        "python3 -c 'import sys, urllib.request; data = open(sys.argv[1], \"rb\").read(); "
        "print(urllib.request.urlopen(urllib.request.Request(sys.argv[2], data=data or None), "
        "timeout=5).read().decode())' " +
        dir_.Sub("control.in") + " http://127.0.0.1:" + std::to_string(port) + "/_control >" +
        dir_.Sub("control.out");
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return ReadFile(dir_.Sub("control.out"));
  }
  void TearDown() override {
    // Whatever a failed assertion left: destroy it, so no host outlives the test.
    ProcessRun left = Standby("instances --all --json", Env());
    if (left.exit_code == 0) {
      nlohmann::json listed = left.json();
      for (const auto& i : listed["instances"]) {
        Standby("destroy " + i["instance_id"].get<std::string>(), Env());
      }
    }
  }
  int Supervisors() {
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      std::string cmdline = ReadFile(entry.path().string() + "/cmdline");
      if (cmdline.find("market-host") != std::string::npos &&
          cmdline.find(dir_.path()) != std::string::npos) {
        ++count;
      }
    }
    return count;
  }
};

// Local effects of hostile or stale input: an id that is a path, and a supervisor.pid whose
// process is long gone and whose pid now belongs to someone else.
TEST_F(ProviderCliTest, DestroyRefusesPathsAndNeverKillsAStrangerBehindAStalePid) {
  const std::string victim = dir_.Sub("victim");
  WriteFile(victim + "/keep.txt", "mine");
  for (const std::string id : {"../../victim", "../victim", "a/b", ".."}) {
    ProcessRun refused = Standby("destroy '" + id + "'", Env());
    EXPECT_NE(refused.exit_code, 0) << id;
    EXPECT_NE(refused.err.find("is not a provider id"), std::string::npos) << refused.err;
  }
  EXPECT_EQ(ReadFile(victim + "/keep.txt"), "mine");

  auto stranger = SpawnChild({"sleep", "60"});
  ASSERT_TRUE(stranger.has_value());
  const std::string host = dir_.Sub("state/market/hosts/123456");
  WriteFile(host + "/supervisor.pid", std::to_string(*stranger) + "\n");
  WriteFile(host + "/instance.json", "{\"id\": \"123456\"}");
  ProcessRun destroyed = Standby("destroy 123456", Env());
  EXPECT_EQ(destroyed.exit_code, 0) << destroyed.err;
  int status = 0;
  EXPECT_EQ(::waitpid(*stranger, &status, WNOHANG), 0) << "destroy killed an unrelated process";
  StopChild(*stranger);
}

// A configured key (STANDBY_SSH_KEY) is the one `ssh-key` prints, local hosts accept and the
// race probes with: one identity everywhere.
TEST_F(ProviderCliTest, SSH_AConfiguredKeyIsTheOneHostsAcceptAndSshKeyPrints) {
  ProcessRun made = Standby("ssh-key --json", "STANDBY_STATE_DIR=" + dir_.Sub("elsewhere"));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string key = made.json()["private_key_path"];
  const std::string env = Env() + " STANDBY_SSH_KEY=" + key;
  ProcessRun printed = Standby("ssh-key --json", env);
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_EQ(printed.json()["private_key_path"], key);
  auto key_of = [](const std::string& line) {  // type and key, without the comment
    return line.substr(0, line.find(' ', line.find(' ') + 1));
  };
  EXPECT_EQ(key_of(printed.json()["public_key"]), key_of(made.json()["public_key"]));
  ProcessRun run = Standby("provision --gpu 'RTX 4090' --json", env);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string id = run.json()["winner"]["instance_id"];
  EXPECT_EQ(Standby("destroy " + id, env).exit_code, 0);
}

TEST_F(ProviderCliTest, SSH_ProvisionOnTheLocalMarketLeavesOnlyTheWinner) {
  ProcessRun offers = Standby("offers --gpu 'RTX 4090' --max-price 0.5 --json", Env());
  ASSERT_EQ(offers.exit_code, 0) << offers.err;
  ASSERT_FALSE(offers.json()["offers"].empty());
  EXPECT_EQ(Standby("offers --gpu 'RTX 4090' --max-price 0.5 --json", Env()).out, offers.out)
      << "the local market's offers must be the same in every command";
  nlohmann::json found = offers.json();
  for (const auto& o : found["offers"]) EXPECT_EQ(o["gpu_name"], "RTX 4090");

  // As if the operator had exported a store secret: no process of the market may inherit it.
  const std::string secret = "leak-probe-" + RandomHex(6);
  ProcessRun run =
      Standby("provision --gpu 'RTX 4090' --json", Env() + " AWS_SECRET_ACCESS_KEY=" + secret);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  int market_processes = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string cmdline = ReadFile(entry.path().string() + "/cmdline");
    if (cmdline.find(dir_.path()) == std::string::npos) continue;
    ++market_processes;
    const std::string environ = ReadFile(entry.path().string() + "/environ");
    if (cmdline.find("market-host") != std::string::npos) {  // (sshd empties its own)
      EXPECT_NE(environ.find("PATH="), std::string::npos)
          << "cannot read the environment of " << cmdline;
    }
    EXPECT_EQ(environ.find(secret), std::string::npos) << "inherited by " << cmdline;
  }
  EXPECT_GE(market_processes, 2);  // the winner's supervisor and its sshd
  nlohmann::json r = run.json();
  const nlohmann::json& w = r["winner"];
  ASSERT_FALSE(w.is_null());
  for (const char* key :
       {"instance_id", "machine_id", "ssh_host", "ssh_port", "gpu_name", "ready_after_ms"}) {
    EXPECT_TRUE(w.contains(key)) << key;
  }
  EXPECT_EQ(w["gpu_name"], "RTX 4090");
  EXPECT_GE(r["candidates"].size(), 1u);
  EXPECT_GE(r["rounds"].get<int>(), 1);
  EXPECT_EQ(r["rate_limit_hits"], 0);
  for (const auto& c : r["candidates"]) {
    if (c["outcome"] != "won" && !c["instance_id"].get<std::string>().empty()) {
      EXPECT_TRUE(c["destroy_confirmed"].get<bool>()) << c.dump();
    }
  }
  // Every candidate went into the state store: `metrics` shows the SSH-ready sample.
  ProcessRun metrics = Standby("metrics --json", Env());
  ASSERT_EQ(metrics.exit_code, 0) << metrics.err;
  EXPECT_EQ(metrics.json()["ssh_ready_ms"]["count"], 1);
  ProcessRun listed = Standby("instances --json", Env());
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  ASSERT_EQ(listed.json()["instances"].size(), 1u) << listed.out;
  EXPECT_EQ(listed.json()["instances"][0]["instance_id"], w["instance_id"]);
  EXPECT_EQ(listed.json()["instances"][0]["state"], "running");
  EXPECT_TRUE(listed.json()["instances"][0]["owned"].get<bool>());
  EXPECT_EQ(Supervisors(), 1);

  // The winner is a host the agent runs on.
  std::string id = w["instance_id"];
  std::string ssh =
      w["ssh_user"].get<std::string>() + "@127.0.0.1:" + std::to_string(w["ssh_port"].get<int>());
  ProcessRun health = Standby("health --ssh " + ssh + " --ssh-host-id " + id + " --json", Env());
  ASSERT_EQ(health.exit_code, 0) << health.err;
  EXPECT_EQ(health.json()["gpu_status"], "no GPU");
  ASSERT_EQ(Standby("health --ssh " + ssh, Env()).exit_code, 0);  // pinned under host:port too
  const std::string pins = dir_.Sub("state/ssh/host_keys");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(pins),
                          std::filesystem::directory_iterator()),
            2);

  // Chaos: killed, it reads offline after the lag (0.5 s × 0.05 scale on `fast`).
  ASSERT_EQ(Standby("market kill " + id, Env()).exit_code, 0);
  std::string state;
  for (int i = 0; i < 50 && state != "offline"; ++i) {  // bounded: 5 s
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    state = Standby("instances --json", Env()).json()["instances"][0]["state"];
  }
  EXPECT_EQ(state, "offline");
  EXPECT_EQ(Standby("health --ssh " + ssh, Env()).exit_code, 1);

  ProcessRun destroyed = Standby("destroy " + id + " --json", Env());
  ASSERT_EQ(destroyed.exit_code, 0) << destroyed.err;
  // Its host-key pins went with it: a later host on the same port is not "changed".
  EXPECT_TRUE(std::filesystem::is_empty(pins));
  ProcessRun again = Standby("destroy " + id + " --json", Env());  // says it is gone
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("not found on local; already gone?"), std::string::npos) << again.err;
  EXPECT_TRUE(Standby("instances --all --json", Env()).json()["instances"].empty());
  EXPECT_EQ(Supervisors(), 0);
}

// Ctrl-C (and a timeout's SIGTERM) while candidates boot: every candidate launched is
// destroyed and confirmed gone before the command exits, and it says so.
TEST_F(ProviderCliTest, SSH_AnInterruptedProvisionDestroysEveryCandidate) {
  WriteFile(dir_.Sub("slow.toml"),
            "name = \"slow\"\nboot_median_s = 60\nboot_p90_s = 90\nnever_ready_share = 0.0\n"
            "exit_during_boot_share = 0.0\ntime_scale = 1.0\n"
            "[[gpu]]\nname = \"RTX 4090\"\nmachines = 6\n");
  const std::string hosts = dir_.Sub("state/market/hosts");
  for (int sig : {SIGINT, SIGTERM}) {
    pid_t provision = StartStandby("provision --market " + dir_.Sub("slow.toml"), Env());
    ASSERT_TRUE(WaitUntil(
        [&] {
          std::error_code ec;
          auto it = std::filesystem::directory_iterator(hosts, ec);
          return !ec && std::distance(it, std::filesystem::directory_iterator()) >= 2;
        },
        std::chrono::seconds(30)));
    ::kill(provision, sig);
    ProcessRun run = Finish(provision, std::chrono::seconds(60));
    EXPECT_EQ(run.exit_code, 128 + sig) << run.err;
    EXPECT_NE(run.err.find("destroying every candidate launched so far"), std::string::npos)
        << run.err;
    EXPECT_NE(run.err.find("), each confirmed gone; nothing is rented"), std::string::npos)
        << run.err;
    EXPECT_TRUE(Standby("instances --all --json", Env()).json()["instances"].empty());
    EXPECT_EQ(Supervisors(), 0);
  }
}

// A second Ctrl-C exits at once, naming what may still run and the command that removes it.
// Vast (the fake API) answers repeated deletes with 429s, so the first Ctrl-C's cleanup is
// still going when the second arrives.
TEST_F(ProviderCliTest, ASecondCtrlCExitsAtOnceAndSaysWhatToReap) {
  int port = FreeLoopbackPort();
  const std::string api_key = "vast-cli-test-key-9a8b7c";
  auto fake = SpawnChild({"node", SourceDir() + "/tests/tools/fake_vast.js", std::to_string(port),
                          api_key, std::to_string(FreeLoopbackPort())},
                         dir_.Sub("fake_vast.log"));
  ASSERT_TRUE(fake.has_value());
  ASSERT_TRUE(WaitForPort(port, 10000));
  auto control = [&](const std::string& body) { return FakeVastControl(port, body); };
  control(R"({"boot_ms": 600000, "thresholds_ms": {"DELETE instance": 3000}})");
  WriteFile(dir_.Sub(".env"), "VAST_API_KEY=" + api_key + "\n");
  const std::string env =
      Env() + " STANDBY_PROVIDER=vast VAST_URL=http://127.0.0.1:" + std::to_string(port);
  pid_t provision = StartStandby("provision --gpu 'RTX 4090'", env);
  auto live = [&] { return nlohmann::json::parse(control(""))["live"].size(); };
  ASSERT_TRUE(WaitUntil([&] { return live() >= 3; }, std::chrono::seconds(30),
                        std::chrono::milliseconds(100)));
  ::kill(provision, SIGINT);
  // Signals do not queue: the second must come after the first was taken.
  ASSERT_TRUE(WaitUntil(
      [&] { return ReadFile(dir_.Sub(".bg.err")).find("received SIGINT:") != std::string::npos; },
      std::chrono::seconds(10)));
  ::kill(provision, SIGINT);
  ProcessRun run = Finish(provision, std::chrono::seconds(60));
  EXPECT_EQ(run.exit_code, 130) << run.err;
  EXPECT_NE(run.err.find("received SIGINT again: exiting at once; "), std::string::npos) << run.err;
  EXPECT_NE(run.err.find(" may still be running: run `standby reap --grace-seconds 0`"),
            std::string::npos)
      << run.err;
  ProcessRun reaped = Standby("reap --grace-seconds 0", env);
  EXPECT_EQ(reaped.exit_code, 0) << reaped.err;
  EXPECT_EQ(live(), 0u);
  StopChild(*fake);
}

TEST_F(ProviderCliTest, SSH_AMarketWhereNothingBootsEndsWithoutLeaks) {
  WriteFile(dir_.Sub("dead.toml"),
            "name = \"dead\"\nboot_median_s = 1\nboot_p90_s = 2\nnever_ready_share = 1.0\n"
            "exit_during_boot_share = 0.0\ntime_scale = 0.1\n"
            "[[gpu]]\nname = \"RTX 4090\"\nmachines = 5\n");
  ProcessRun run =
      Standby("provision --market " + dir_.Sub("dead.toml") + " --rounds 2 --json", Env());
  EXPECT_EQ(run.exit_code, 1);
  ASSERT_EQ(run.ErrorLines().size(), 1u) << run.err;
  EXPECT_NE(run.ErrorLines()[0].find("no machine became ready"), std::string::npos);
  nlohmann::json r = run.json()["error"]["details"];  // the race, inside the error
  EXPECT_TRUE(r["winner"].is_null());
  EXPECT_EQ(r["rounds"], 2);
  for (const auto& c : r["candidates"]) EXPECT_EQ(c["outcome"], "timed_out");
  EXPECT_TRUE(Standby("instances --all --json", Env()).json()["instances"].empty());
  EXPECT_EQ(Supervisors(), 0);
  // The failed machines stay blacklisted for the next command: nothing is left to try.
  ProcessRun again = Standby("provision --market " + dir_.Sub("dead.toml") + " --json", Env());
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(again.json()["candidates"].empty()) << again.out;
  // Candidates abandoned before ready are censored samples, not "never ready" ones; and
  // metrics suggests the timeout the race used.
  ProcessRun metrics = Standby("metrics --market " + dir_.Sub("dead.toml") + " --json", Env());
  ASSERT_EQ(metrics.exit_code, 0) << metrics.err;
  EXPECT_EQ(metrics.json()["censored"], 5);
  EXPECT_EQ(metrics.json()["ssh_ready_ms"]["count"], 0);
  EXPECT_TRUE(metrics.json()["never_ready_share"].is_null());
  EXPECT_EQ(metrics.json()["timings_from"], "defaults");
  EXPECT_EQ(metrics.json()["suggested_ready_timeout_ms"], r["round_timeout_ms"]);
  ProcessRun told = Standby("metrics --market " + dir_.Sub("dead.toml"), Env());
  ASSERT_EQ(told.exit_code, 0) << told.err;
  EXPECT_NE(told.out.find("no machine has become ready yet (5 abandoned)"), std::string::npos)
      << told.out;
  EXPECT_NE(told.out.find("(the provider's defaults: fewer than 20 samples so far)"),
            std::string::npos)
      << told.out;
  EXPECT_EQ(told.out.find("Race timeout: 0.0 s"), std::string::npos) << told.out;
  ProcessRun bad = Standby("offers --market " + dir_.Sub("missing.toml"), Env());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.ErrorLines().size(), 1u) << bad.err;
}

TEST_F(ProviderCliTest, SSH_AStaticPoolHandsOutEachHostOnce) {
  auto hosts = StartPool(2, Env());
  ASSERT_EQ(hosts.size(), 2u);
  std::string pool = " --provider pool --pool " + dir_.Sub("pool.toml");
  ProcessRun first = Standby("provision --initial 1 --max-in-flight 1 --json" + pool, Env());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ProcessRun second = Standby("provision --initial 1 --max-in-flight 1 --json" + pool, Env());
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(first.json()["winner"]["ssh_port"], second.json()["winner"]["ssh_port"]);
  ProcessRun third = Standby("provision --json" + pool, Env());
  EXPECT_EQ(third.exit_code, 1);  // both hosts claimed
  ASSERT_EQ(Standby("instances --json" + pool, Env()).json()["instances"].size(), 2u);
  std::string id = first.json()["winner"]["instance_id"];
  ASSERT_EQ(Standby("destroy " + id + pool, Env()).exit_code, 0);  // released
  ProcessRun again = Standby("provision --initial 1 --max-in-flight 1 --json" + pool, Env());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.json()["winner"]["instance_id"], id);
  nlohmann::json claimed = Standby("instances --json" + pool, Env()).json();
  for (const auto& i : claimed["instances"]) {
    EXPECT_EQ(Standby("destroy " + i["instance_id"].get<std::string>() + pool, Env()).exit_code, 0);
  }
}

TEST_F(ProviderCliTest, SSH_ProvisionThroughTheVastApi) {
  ProcessRun key = Standby("ssh-key", Env());
  ASSERT_EQ(key.exit_code, 0);
  auto host = SshdHost::Start(key.out.substr(0, key.out.find('\n')));
  ASSERT_TRUE(host.has_value());
  int port = FreeLoopbackPort();
  const std::string api_key = "vast-cli-test-key-9a8b7c";
  auto fake = SpawnChild({"node", SourceDir() + "/tests/tools/fake_vast.js", std::to_string(port),
                          api_key, std::to_string((*host)->port())},
                         dir_.Sub("fake_vast.log"));
  ASSERT_TRUE(fake.has_value());
  ASSERT_TRUE(WaitForPort(port, 10000));
  WriteFile(dir_.Sub(".env"), "VAST_API_KEY=" + api_key + "\n");  // never on a command line
  std::string env =
      Env() + " STANDBY_PROVIDER=vast VAST_URL=http://127.0.0.1:" + std::to_string(port);
  std::string user = (*host)->target().substr(0, (*host)->target().find('@'));
  ProcessRun run = Standby("provision --gpu 'RTX 4090' --ssh-user " + user + " --json", env);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json w = run.json()["winner"];
  EXPECT_EQ(w["ssh_host"], "127.0.0.1");  // the direct endpoint, trimmed
  EXPECT_EQ(w["ssh_port"], (*host)->port());
  EXPECT_EQ(run.out.find(api_key), std::string::npos);
  EXPECT_EQ(run.err.find(api_key), std::string::npos);
  ProcessRun listed = Standby("instances --json", env);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  ASSERT_EQ(listed.json()["instances"].size(), 1u);  // the losers are gone
  ASSERT_EQ(Standby("destroy " + w["instance_id"].get<std::string>(), env).exit_code, 0);
  EXPECT_TRUE(Standby("instances --json", env).json()["instances"].empty());
  ProcessRun no_key = Standby("offers --json", "STANDBY_PROVIDER=vast VAST_API_KEY=");
  EXPECT_EQ(no_key.exit_code, 1);
  EXPECT_NE(no_key.err.find("VAST_API_KEY"), std::string::npos) << no_key.err;
  StopChild(*fake);
}

// A destroy the API acknowledges but does not carry out is not a destroy: `destroy` says so
// in one line and exits 1, the machine stays owned and listed (the reaper never takes it for
// an orphan), and a later `reap` retries it until the API confirms.
TEST_F(ProviderCliTest, SSH_AnAcknowledgedDestroyThatDidNotHappenStaysPendingUntilConfirmed) {
  ProcessRun key = Standby("ssh-key", Env());
  ASSERT_EQ(key.exit_code, 0);
  auto host = SshdHost::Start(key.out.substr(0, key.out.find('\n')));
  ASSERT_TRUE(host.has_value());
  int port = FreeLoopbackPort();
  const std::string api_key = "vast-cli-test-key-5e4d3c";
  auto fake = SpawnChild({"node", SourceDir() + "/tests/tools/fake_vast.js", std::to_string(port),
                          api_key, std::to_string((*host)->port())},
                         dir_.Sub("fake_vast.log"));
  ASSERT_TRUE(fake.has_value());
  ASSERT_TRUE(WaitForPort(port, 10000));
  WriteFile(dir_.Sub(".env"), "VAST_API_KEY=" + api_key + "\n");
  std::string env =
      Env() + " STANDBY_PROVIDER=vast VAST_URL=http://127.0.0.1:" + std::to_string(port);
  std::string user = (*host)->target().substr(0, (*host)->target().find('@'));
  ProcessRun run = Standby("provision --gpu 'RTX 4090' --ssh-user " + user + " --json", env);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string id = run.json()["winner"]["instance_id"];
  auto control = [&](const std::string& body) { return FakeVastControl(port, body); };
  control(R"({"stubborn_destroy_ms": 12000})");
  ProcessRun lied = Standby("destroy " + id, env);
  EXPECT_EQ(lied.exit_code, 1) << lied.out;
  ASSERT_EQ(lied.ErrorLines().size(), 1u) << lied.err;
  EXPECT_NE(lied.err.find("not confirmed destroyed"), std::string::npos) << lied.err;
  EXPECT_NE(lied.err.find("destroy pending"), std::string::npos) << lied.err;
  // Still listed: the machine is not gone until the API really lets it go.
  ProcessRun listed = Standby("instances --json", env);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  ASSERT_EQ(listed.json()["instances"].size(), 1u);
  std::this_thread::sleep_for(std::chrono::seconds(13));
  ProcessRun reaped = Standby("reap --json", env);
  EXPECT_EQ(reaped.exit_code, 0) << reaped.err;
  EXPECT_TRUE(Standby("instances --json", env).json()["instances"].empty());
  EXPECT_TRUE(nlohmann::json::parse(control(""))["live"].empty());
  StopChild(*fake);
}

}  // namespace
}  // namespace standby

namespace standby {
namespace {

// Ownership lives in the state database: two controllers (separate state directories,
// one market) sharing one PostgreSQL see the same owners, and `reap` from one never
// destroys what the other rented. With its own SQLite instead, the second one would.
TEST_F(ProviderCliTest, PG_SSH_TwoControllersOnOnePostgresSeeTheSameOwners) {
  auto pg = PostgresServer::Start();
  ASSERT_TRUE(pg.has_value()) << pg.error().message;
  WriteFile(dir_.Sub(".env"), "DATABASE_URL=" + (*pg)->url() + "\n");  // a secret: not argv
  const std::string market = " STANDBY_MARKET_DIR=" + dir_.Sub("market");
  const std::string a = "STANDBY_STATE_DIR=" + dir_.Sub("a") + market;
  const std::string b = "STANDBY_STATE_DIR=" + dir_.Sub("b") + market;
  ProcessRun rented = Standby("provision --gpu 'RTX 4090' --json", a);
  ASSERT_EQ(rented.exit_code, 0) << rented.err;
  const std::string id = rented.json()["winner"]["instance_id"];

  ProcessRun seen = Standby("instances --json", b);
  ASSERT_EQ(seen.exit_code, 0) << seen.err;
  const nlohmann::json listed = seen.json();
  ASSERT_EQ(listed["instances"].size(), 1u) << seen.out;
  EXPECT_EQ(listed["instances"][0]["instance_id"], id);
  EXPECT_TRUE(listed["instances"][0]["owned"].get<bool>()) << "B does not see A's ownership";

  ProcessRun reaped = Standby("reap --grace-seconds 0 --json", b);
  ASSERT_EQ(reaped.exit_code, 0) << reaped.err;
  EXPECT_TRUE(reaped.json()["destroyed"].empty()) << reaped.out;
  EXPECT_EQ(Standby("instances --json", a).json()["instances"].size(), 1u);

  // The same reap on a database of its own does not know A's instance: it is an orphan.
  ProcessRun alone =
      Standby("reap --grace-seconds 0 --json", b + " DATABASE_URL=sqlite://" + dir_.Sub("b.db"));
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  EXPECT_EQ(alone.json()["destroyed"], nlohmann::json::array({id})) << alone.out;
  EXPECT_TRUE(Standby("instances --all --json", a).json()["instances"].empty());
}

}  // namespace
}  // namespace standby
