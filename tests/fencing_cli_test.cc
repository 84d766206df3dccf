// Fencing a host the controller cannot reach, with real processes: a local-market host adopted
// with --ssh (no provider rents it for the controller, so nothing but its own agent can stop
// its workload), partitioned by stopping its sshd and every SSH session while its workload
// keeps answering. The workload binds one loopback port, so two hosts can never both serve:
// the test reads from the outside which host's workload runs.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

#include "env/local_sshd.h"
#include "testing/sshd.h"
#include "tests/controller_cli_fixture.h"

namespace standby {
namespace {

class FencingCliTest : public ControllerCliTest {
 protected:
  // Rents a machine on the local market, gives it the seed's files, and protects llm-1 on it
  // with --ssh; returns the machine's id.
  std::string AdoptMarketHost(const std::string& workload, const std::string& extra) {
    ProcessRun rented = Standby("provision --gpu 'RTX 4090' --json", Env());
    EXPECT_EQ(rented.exit_code, 0) << rented.err;
    if (rented.exit_code != 0) return "";
    const nlohmann::json w = rented.json()["winner"];
    const std::string id = w["instance_id"];
    WriteFile(HostWorkspace(id) + "/health.txt", "ok");
    const std::string target = w["ssh_user"].get<std::string>() + "@" +
                               w["ssh_host"].get<std::string>() + ":" +
                               std::to_string(w["ssh_port"].get<int>());
    ProcessRun placed = Standby("protect llm-1 --ssh " + target + " --workload " + workload +
                                    " --health-url http://127.0.0.1:" + std::to_string(port_) +
                                    "/health.txt --probe-interval 500 --snapshot-every 0 "
                                    "--dead-after 3 --json " +
                                    extra,
                                Env());
    EXPECT_EQ(placed.exit_code, 0) << placed.err;
    return id;
  }
  // 0 when no workload was ever started on `id`.
  pid_t WorkloadPid(const std::string& id) {
    return std::atoi(ReadFile(WorkloadPidFile(id)).c_str());
  }
  static bool Running(pid_t pid) {
    if (pid <= 0 || ::kill(pid, 0) != 0) return false;
    // A zombie has stopped serving: only its parent has not read its status yet.
    const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
    const size_t after_name = stat.rfind(')');
    return after_name != std::string::npos && after_name + 2 < stat.size() &&
           stat[after_name + 2] != 'Z';
  }
  // Stops (SIGSTOP) or resumes (SIGCONT) every process of the host except its workload's
  // session: sshd and the controller's SSH sessions hang, the workload answers on.
  void Partition(const std::string& id, int sig) {
    const pid_t workload = WorkloadPid(id);
    ASSERT_GT(workload, 1);
    SignalHost(id, sig, workload);
  }
  nlohmann::json FencePending() {
    nlohmann::json i = Instance();
    return i.is_object() && i.contains("fence_pending") ? i["fence_pending"]
                                                        : nlohmann::json::array();
  }
};

// fencing.unconfirmed = wait: the replacement is restored and checked, but its workload does
// not start while the old one may still run; it starts once the old host answers again and
// its agent confirms the old workload stopped.
TEST_F(FencingCliTest, SSH_WithWaitTheNewWorkloadStartsOnlyOnceThePartitionedOldOneIsStopped) {
  Seed();
  const std::string old = AdoptMarketHost(Workload(), "--fence-unconfirmed wait");
  ASSERT_FALSE(old.empty());
  const pid_t old_workload = WorkloadPid(old);
  ASSERT_TRUE(WaitFor([&] { return Fetch("/health.txt") == "ok"; }, 20));
  StartServe();
  Partition(old, SIGSTOP);
  ASSERT_TRUE(WaitFor(
      [&] {
        nlohmann::json f = FencePending();
        return !f.empty() && f[0]["fence"] == "waiting";
      },
      90))
      << ServeLog();
  ProcessRun told = Standby("status llm-1", Env());
  EXPECT_NE(told.out.find("FENCE WAITING"), std::string::npos) << told.out;
  // A few probe intervals on: the old workload still serves and nothing replaced it.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_TRUE(Running(old_workload));
  EXPECT_EQ(Fetch("/health.txt"), "ok");
  auto failovers = Failovers();
  ASSERT_EQ(failovers.size(), 1u);
  EXPECT_EQ(failovers[0]["completed_at"], 0) << failovers[0].dump();
  const std::string replacement = failovers[0]["new_instance_id"];
  ASSERT_FALSE(replacement.empty()) << failovers[0].dump();
  // Not even tried: a workload started now would die at once on the port the old one holds,
  // so what counts is that the agent was never asked to start one.
  EXPECT_FALSE(std::filesystem::exists(WorkloadPidFile(replacement)))
      << "the new workload was started before the old host was fenced";

  Partition(old, SIGCONT);
  ASSERT_TRUE(WaitFor([&] { return FailoversFinished(1); }, 60)) << ServeLog();
  failovers = Failovers();
  ASSERT_EQ(failovers.size(), 1u);
  EXPECT_TRUE(failovers[0]["success"].get<bool>()) << failovers[0].dump();
  EXPECT_EQ(failovers[0]["fence"], "confirmed") << failovers[0].dump();
  EXPECT_NE(failovers[0]["fence_detail"].get<std::string>().find("no longer runs"),
            std::string::npos)
      << failovers[0].dump();
  EXPECT_FALSE(Running(old_workload));
  EXPECT_TRUE(Running(WorkloadPid(replacement)));
  ASSERT_TRUE(WaitFor([&] { return Fetch("/health.txt") == "ok"; }, 20));
  EXPECT_TRUE(FencePending().empty());
}

// fencing.unconfirmed = proceed: the replacement serves without waiting, `status` shows the
// old host's fence pending, and the controller stops the old workload as soon as the host
// answers again. The workload retries its port, so the replacement's binds once the old one
// lets go.
TEST_F(FencingCliTest, SSH_WithProceedThePartitionedOldHostIsFencedOnceItAnswersAgain) {
  Seed();
  const std::string retrying = "'while :; do python3 -m http.server --bind 127.0.0.1 " +
                               std::to_string(port_) + "; sleep 0.2; done'";
  const std::string old = AdoptMarketHost(retrying, "--fence-unconfirmed proceed");
  ASSERT_FALSE(old.empty());
  const pid_t old_workload = WorkloadPid(old);
  ASSERT_TRUE(WaitFor([&] { return Fetch("/health.txt") == "ok"; }, 20));
  StartServe();
  Partition(old, SIGSTOP);
  ASSERT_TRUE(WaitFor([&] { return FailoversFinished(1); }, 90)) << ServeLog();
  auto failovers = Failovers();
  ASSERT_EQ(failovers.size(), 1u);
  EXPECT_TRUE(failovers[0]["success"].get<bool>()) << failovers[0].dump();
  EXPECT_EQ(failovers[0]["fence"], "pending") << failovers[0].dump();
  nlohmann::json pending = FencePending();
  ASSERT_EQ(pending.size(), 1u) << Instance().dump();
  EXPECT_EQ(pending[0]["fence"], "pending");
  EXPECT_EQ(pending[0]["failover_id"], failovers[0]["failover_id"]);
  ProcessRun told = Standby("status llm-1", Env());
  EXPECT_NE(told.out.find("FENCE PENDING"), std::string::npos) << told.out;
  EXPECT_TRUE(Running(old_workload)) << "the partitioned host was reached after all";

  Partition(old, SIGCONT);
  // Fences are retried every probe interval (0.5 s), each try bounded by the probe timeout;
  // the bound below only absorbs a loaded machine.
  ASSERT_TRUE(WaitFor([&] { return !Running(old_workload); }, 15)) << ServeLog();
  ASSERT_TRUE(WaitFor([&] { return FencePending().empty(); }, 15)) << ServeLog();
  failovers = Failovers();
  EXPECT_EQ(failovers[0]["fence"], "confirmed") << failovers[0].dump();
  EXPECT_GT(failovers[0]["fenced_at"].get<int64_t>(), failovers[0]["completed_at"].get<int64_t>());
  const std::string replacement = failovers[0]["new_instance_id"];
  EXPECT_TRUE(Running(WorkloadPid(replacement)));
  ASSERT_TRUE(WaitFor([&] { return Fetch("/health.txt") == "ok"; }, 20));
  EXPECT_NE(ServeLog().find("fence"), std::string::npos);
}

// A static pool of real sshd hosts, where a "destroy" only gives the machine back: a failover
// by request stops the old workload over SSH, has the agent confirm it no longer runs, and
// only then releases the old machine to the pool. Exactly one host serves at the end, read
// from the outside (both hosts' workloads would bind the same port; their pids are checked).
TEST_F(FencingCliTest, SSH_APoolInstanceFailedOverByRequestEndsWithExactlyOneHostServing) {
  auto pool = StartPool(2, Env());
  ASSERT_EQ(pool.size(), 2u);
  const SshdHost* a = pool[0].get();
  const SshdHost* b = pool[1].get();
  extra_env_ = " STANDBY_PROVIDER=pool STANDBY_POOL_FILE=" + dir_.Sub("pool.toml");
  Seed();
  // The pool's hosts share this machine's file system: one workspace path for both.
  ProcessRun placed = Protect("--workspace " + dir_.Sub("workspace"));
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  const std::string first = placed.json()["provider_instance_id"];
  std::string last_listing;
  auto home_of = [&](const std::string& id) {
    ProcessRun listed = Standby("instances --json", Env());
    last_listing = listed.out + listed.err;
    const nlohmann::json parsed = listed.json();  // alive for the whole loop
    for (const auto& i : parsed["instances"]) {
      if (i["instance_id"] == id) {
        return i["ssh_port"].get<int>() == a->port() ? a->home() : b->home();
      }
    }
    return std::string();
  };
  auto workload_pid = [&](const std::string& home) {
    return std::atoi(ReadFile(WorkloadPidFileUnder(home)).c_str());
  };
  // Workloads outlive their sshd (their own session): whatever runs when the test ends dies.
  struct KillWorkloadsAtExit {
    std::function<pid_t(const std::string&)> pid_of;
    std::vector<std::string> homes;
    ~KillWorkloadsAtExit() {
      for (const std::string& home : homes) {
        if (pid_t pid = pid_of(home); pid > 1) ::kill(-pid, SIGKILL);
      }
    }
  } cleanup{workload_pid, {a->home(), b->home()}};
  const std::string old_home = home_of(first);
  ASSERT_FALSE(old_home.empty()) << first << "\n" << last_listing << placed.out;
  const pid_t old_workload = workload_pid(old_home);
  ASSERT_TRUE(Running(old_workload));
  ASSERT_TRUE(WaitFor([&] { return Fetch("/health.txt") == "ok"; }, 20));
  StartServe();
  ProcessRun moved = Standby("failover llm-1 --wait --json", Env());
  ASSERT_EQ(moved.exit_code, 0) << moved.err << ServeLog();
  const nlohmann::json e = moved.json();
  EXPECT_TRUE(e["success"].get<bool>()) << e.dump();
  EXPECT_EQ(e["fence"], "confirmed") << e.dump();
  EXPECT_NE(e["fence_detail"].get<std::string>().find("no longer runs"), std::string::npos)
      << e.dump();
  const std::string second = e["new_instance_id"];
  ASSERT_NE(second, first);
  EXPECT_FALSE(Running(old_workload)) << "the old pool host still runs the workload";
  const std::string new_home = old_home == a->home() ? b->home() : a->home();
  EXPECT_TRUE(Running(workload_pid(new_home)));
  ASSERT_TRUE(WaitFor([&] { return Fetch("/model.txt") == RandomBytes(1 << 20, 7); }, 20));
  // The old machine went back to the pool (released once fenced); the new one is claimed.
  ProcessRun listed = Standby("instances --json", Env());
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  ASSERT_EQ(listed.json()["instances"].size(), 1u) << listed.out;
  EXPECT_EQ(listed.json()["instances"][0]["instance_id"], second);
}

}  // namespace
}  // namespace standby
