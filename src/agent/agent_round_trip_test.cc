// The agent protocol end to end, the same tests over two transports: the real
// standby-agent binary as a subprocess (LocalTransport), and the in-process hosts tests of
// the controller use (agent/in_process_hosts.h), whose hosts each see their own directory
// and share a memory store.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include "agent/in_process_hosts.h"
#include "base/strings.h"
#include "remote/host_agent.h"
#include "remote/local_transport.h"
#include "store/mem_object_store.h"
#include "store/open_store.h"
#include "store/s3_object_store.h"
#include "testing/s3rver.h"
#include "testing/test_util.h"

namespace standby {
namespace {

class AgentRoundTripTest : public ::testing::TestWithParam<std::string> {
 protected:
  AgentRoundTripTest() : store_(Clock::Real()), hosts_(dir_.Sub("hosts"), &store_, Clock::Real()) {}

  std::string Agent() { return BuiltBinary("standby-agent"); }
  bool InProcess() const { return GetParam() == "in_process"; }
  // A transport to "the host" `name`: for the local transport every host is this machine.
  std::unique_ptr<AgentTransport> Host(const std::string& name) {
    if (!InProcess()) return std::make_unique<LocalTransport>(Agent(), Clock::Real());
    return hosts_.Connect({"root", name, 22, ""});
  }
  // Where a host's `path` is on this machine's file system.
  std::string OnHost(const std::string& name, const std::string& path) {
    return InProcess() ? hosts_.HostPath(name + ":22", path) : path;
  }
  AgentJob Job(const std::string& command) {
    AgentJob job;
    job.command = command;
    job.repo = dir_.Sub("repo");
    job.instance_id = "gpu-1";
    return job;
  }
  TempDir dir_;
  MemObjectStore store_;
  InProcessHosts hosts_;
};

INSTANTIATE_TEST_SUITE_P(Transports, AgentRoundTripTest, ::testing::Values("local", "in_process"));

TEST_P(AgentRoundTripTest, SnapshotRestoreVerifyThroughTheAgent) {
  WriteFile(OnHost("a", dir_.Sub("host-a/ws/model.bin")), RandomBytes(3 << 20, 1));
  WriteFile(OnHost("a", dir_.Sub("host-a/ws/cfg/config.json")), "{}");
  auto host_a = Host("a");
  auto host_b = Host("b");
  AgentJob snap = Job("snapshot");
  snap.workspace = dir_.Sub("host-a/ws");
  ASSERT_OK_AND_ASSIGN(auto created, host_a->RunJob(snap, nullptr));
  EXPECT_EQ(created["snapshot_type"], "full");
  EXPECT_EQ(created["files_total"], 2);

  AgentJob restore = Job("restore");
  restore.target = dir_.Sub("host-b/ws");
  std::vector<AgentEvent> events;
  ASSERT_OK_AND_ASSIGN(auto restored,
                       host_b->RunJob(restore, [&](const AgentEvent& e) { events.push_back(e); }));
  EXPECT_EQ(restored["validation"], "ok");
  EXPECT_EQ(restored["files_restored"], 2);
  EXPECT_EQ(ReadFile(OnHost("b", dir_.Sub("host-b/ws/model.bin"))),
            ReadFile(OnHost("a", dir_.Sub("host-a/ws/model.bin"))));
  bool saw_progress = false;
  for (const AgentEvent& e : events) {
    if (e.type == "progress") {
      saw_progress = true;
      EXPECT_EQ(e.body["phase"], "restore");
      EXPECT_LE(e.body["percent"].get<int>(), 100);
    }
  }
  EXPECT_TRUE(saw_progress);

  AgentJob verify = Job("verify");
  verify.workspace = dir_.Sub("host-b/ws");
  ASSERT_OK_AND_ASSIGN(auto verified, host_b->RunJob(verify, nullptr));
  EXPECT_EQ(verified["validation"], "ok");
}

TEST_P(AgentRoundTripTest, AFailedVerificationIsAReportAndNeverOutlivesItsJob) {
  WriteFile(OnHost("a", dir_.Sub("host-a/ws/model.bin")), RandomBytes(1 << 20, 2));
  auto transport = Host("a");
  StoreAccess store{dir_.Sub("repo"), {}};
  HostAgent agent(transport.get(), &store);
  ASSERT_OK_AND_ASSIGN(auto snap, agent.Snapshot("gpu-1", dir_.Sub("host-a/ws"), false));
  WriteFile(OnHost("a", dir_.Sub("host-a/ws/model.bin")), "changed");
  ASSERT_OK_AND_ASSIGN(VerifyReport mismatch,
                       agent.Verify("gpu-1", snap.snapshot_id, dir_.Sub("host-a/ws")));
  EXPECT_EQ(mismatch.validation, Validation::kFailed);
  // The next job fails before it reaches the agent: its error, not the last job's report.
  StoreAccess nowhere{"", {}};
  HostAgent unreachable(transport.get(), &nowhere);
  auto failed = unreachable.Verify("gpu-1", snap.snapshot_id, dir_.Sub("host-a/ws"));
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(AgentRoundTripTest, AgentErrorsComeBackAsErrors) {
  auto transport = Host("a");
  AgentJob restore = Job("restore");
  restore.target = dir_.Sub("out");
  auto missing = transport->RunJob(restore, nullptr);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("; check --repo"), std::string::npos)
      << missing.error().message;
  AgentJob newer = Job("health");
  newer.protocol = 99;
  auto refused = transport->RunJob(newer, nullptr);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("agent protocol 99"), std::string::npos);
  if (InProcess()) {
    hosts_.Kill("a:22");
    EXPECT_EQ(transport->RunJob(Job("health"), nullptr).error().code, ErrorCode::kUnavailable);
  } else {
    LocalTransport absent(dir_.Sub("no-such-agent"), Clock::Real());
    EXPECT_FALSE(absent.RunJob(Job("health"), nullptr).has_value());
  }
}

TEST_P(AgentRoundTripTest, HealthReportsTheHostWithoutAGpuBeingAnError) {
  auto transport = Host("a");
  AgentJob health = Job("health");
  health.workspace = "/";
  ASSERT_OK_AND_ASSIGN(auto h, transport->RunJob(health, nullptr));
  EXPECT_GT(h["uptime_s"].get<double>(), 0);
  EXPECT_GT(h["free_bytes"].get<uint64_t>(), 0u);
  EXPECT_TRUE(h["gpus"].is_array());
  if (h["gpus"].empty()) {
    EXPECT_EQ(h["gpu_status"], "no GPU");
  }
}

TEST_P(AgentRoundTripTest, WorkloadStartsDetachedAnswersHealthChecksAndStops) {
  auto transport = Host("a");
  WriteFile(OnHost("a", dir_.Sub("ws/index.html")), "model ready");
  int port = FreeLoopbackPort();
  AgentJob job = Job("workload start");
  job.workspace = dir_.Sub("ws");
  job.state_dir = dir_.Sub("state");
  job.workload_command =
      "echo \"token=$MODEL_NAME\" > started.txt; exec python3 -m http.server --bind 127.0.0.1 " +
      std::to_string(port);
  job.workload_env = {{"MODEL_NAME", "llama-mini"}};
  job.grace_seconds = 5;
  job.health_url = "http://127.0.0.1:" + std::to_string(port) + "/index.html";
  job.health_expect_body = "model ready";
  ASSERT_OK_AND_ASSIGN(auto started, transport->RunJob(job, nullptr));  // returns while it runs
  EXPECT_EQ(started["state"], "running");
  EXPECT_TRUE(started["started"].get<bool>());
  int pid = started["pid"].get<int>();
  job.command = "workload start";
  ASSERT_OK_AND_ASSIGN(auto again, transport->RunJob(job, nullptr));
  EXPECT_FALSE(again["started"].get<bool>());  // idempotent: the same process
  EXPECT_EQ(again["pid"].get<int>(), pid);

  job.command = "health";
  nlohmann::json health;
  for (int attempt = 0; attempt < 50; ++attempt) {  // the server needs a moment to listen
    ASSERT_OK_AND_ASSIGN(health, transport->RunJob(job, nullptr));
    if (health["workload_health"]["ok"].get<bool>()) break;
    ::usleep(100'000);
  }
  EXPECT_TRUE(health["workload_alive"].get<bool>());
  EXPECT_TRUE(health["workload_health"]["ok"].get<bool>()) << health.dump();
  EXPECT_EQ(health["workload_health"]["status"], 200);
  EXPECT_EQ(ReadFile(OnHost("a", dir_.Sub("ws/started.txt"))), "token=llama-mini\n");

  job.command = "workload stop";
  ASSERT_OK_AND_ASSIGN(auto stopped, transport->RunJob(job, nullptr));
  EXPECT_EQ(stopped["state"], "stopped");
  EXPECT_TRUE(stopped["was_running"].get<bool>());
  // Gone: no such process, or only a zombie left for its new parent (the agent has exited).
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  EXPECT_TRUE(stat.empty() || stat.find(") Z ") != std::string::npos) << stat;
  job.command = "workload status";
  ASSERT_OK_AND_ASSIGN(auto status, transport->RunJob(job, nullptr));
  EXPECT_EQ(status["state"], "stopped");
  job.command = "health";
  ASSERT_OK_AND_ASSIGN(auto after, transport->RunJob(job, nullptr));
  EXPECT_FALSE(after["workload_health"]["ok"].get<bool>());
}

}  // namespace
}  // namespace standby

namespace standby {
namespace {

// No credential leaves the controller. The real agent runs behind a wrapper that records
// everything the controller writes to it and the environment it starts with; it snapshots
// to and restores from a real S3 server with nothing but the grants it was given.
TEST(AgentStoreGrantsTest, S3_NoSecretReachesTheHostYetSnapshotRestoreAndVerifyWork) {
  auto server = S3rver::Start();
  ASSERT_TRUE(server.has_value()) << server.error().message;
  TempDir dir;
  // s3rver checks the access key id, not V4 signatures: any secret signs for it.
  const std::string secret = "controller-only-" + RandomHex(8);
  ::setenv("AWS_SECRET_ACCESS_KEY", secret.c_str(), 1);  // as if the controller had it
  const std::string agent = BuiltBinary("standby-agent");
  const std::string wrapper = dir.Sub("agent.sh");
  WriteFile(wrapper,
            "#!/bin/sh\nenv >>'" + dir.Sub("env.txt") + "'\ntee -a '" + dir.Sub("stdin.txt") +
                "' | '" + agent + "'\n",
            0755);
  LocalTransport transport(wrapper, Clock::Real());
  StoreAccess access;
  access.repo = "s3://" + (*server)->bucket() + "/grants";
  access.settings.s3_endpoint = (*server)->endpoint();
  access.settings.credentials = {"S3RVER", secret, ""};
  access.settings.clock = Clock::Real();
  HostAgent host(&transport, &access);

  WriteFile(dir.Sub("a/ws/model.bin"), RandomBytes(5 << 20, 7));
  WriteFile(dir.Sub("a/ws/cfg/config.json"), "{\"lr\": 0.1}");
  SnapshotJobOptions small_packs;
  small_packs.pack_size_mb = 1;  // several packs, each granted on request
  ASSERT_OK_AND_ASSIGN(SnapshotReport snap,
                       host.Snapshot("gpu-1", dir.Sub("a/ws"), false, small_packs));
  ASSERT_OK_AND_ASSIGN(RestoreReport restored, host.Restore("gpu-1", "", dir.Sub("b/ws")));
  EXPECT_EQ(restored.snapshot_id, snap.snapshot_id);
  EXPECT_EQ(restored.validation, Validation::kOk);
  EXPECT_EQ(ReadFile(dir.Sub("b/ws/model.bin")), ReadFile(dir.Sub("a/ws/model.bin")));
  ASSERT_OK_AND_ASSIGN(VerifyReport verified, host.Verify("gpu-1", "", dir.Sub("b/ws")));
  EXPECT_EQ(verified.validation, Validation::kOk);
  // A snapshot that died after its packs but before its index: the next one makes the same
  // packs, which the controller will not let it overwrite; identical bytes are accepted.
  ASSERT_OK_AND_ASSIGN(auto signer, OpenS3Store(access.repo, access.settings));
  ASSERT_OK_AND_ASSIGN(auto indexes, ListAll(signer.get(), "index/gpu-1/"));
  ASSERT_FALSE(indexes.empty());
  for (const ObjectInfo& index : indexes) ASSERT_OK(signer->Delete(index.key));
  ASSERT_OK_AND_ASSIGN(SnapshotReport again,
                       host.Snapshot("gpu-1", dir.Sub("a/ws"), /*full=*/true, small_packs));
  EXPECT_NE(again.snapshot_id, snap.snapshot_id);
  ::unsetenv("AWS_SECRET_ACCESS_KEY");

  const std::string sent = ReadFile(dir.Sub("stdin.txt"));
  EXPECT_EQ(sent.find(secret), std::string::npos) << "the secret went to the host";
  EXPECT_NE(sent.find("\"type\":\"grant\""), std::string::npos) << "no grant was asked for";
  EXPECT_NE(sent.find("X-Amz-Signature"), std::string::npos);
  EXPECT_NE(sent.find("exists and is immutable"), std::string::npos)
      << "the second snapshot never met its earlier packs";
  const std::string env = ReadFile(dir.Sub("env.txt"));
  EXPECT_EQ(env.find(secret), std::string::npos) << "the agent inherited the secret";
  EXPECT_EQ(env.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST(InProcessHostsTest, AHostCanDieInTheMiddleOfAJobAndRefusesJobsAfterwards) {
  TempDir dir;
  MemObjectStore store(Clock::Real());
  InProcessHosts hosts(dir.Sub("hosts"), &store, Clock::Real());
  WriteFile(hosts.HostPath("a:22", "/ws/model.bin"), RandomBytes(8 << 20, 3));
  auto a = hosts.Connect({"root", "a", 22, ""});
  AgentJob snap;
  snap.command = "snapshot";
  snap.instance_id = "gpu-1";
  snap.workspace = "/ws";
  ASSERT_OK(a->RunJob(snap, nullptr));

  auto b = hosts.Connect({"root", "b", 22, ""});
  AgentJob restore;
  restore.command = "restore";
  restore.instance_id = "gpu-1";
  restore.target = "/ws";
  hosts.DieDuringNextJob("b:22", 3);  // the hello and two progress events, then silence
  int events = 0;
  auto cut = b->RunJob(restore, [&](const AgentEvent&) { ++events; });
  ASSERT_FALSE(cut.has_value());
  EXPECT_EQ(cut.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(cut.error().message.find("lost"), std::string::npos) << cut.error().message;
  EXPECT_LE(events, 2);
  EXPECT_FALSE(hosts.Alive("b:22"));
  EXPECT_FALSE(b->RunJob(restore, nullptr).has_value());
  hosts.Revive("b:22");
  restore.overwrite = true;  // a rerun over what the cut restore left, as the controller does
  ASSERT_OK_AND_ASSIGN(auto restored, b->RunJob(restore, nullptr));
  EXPECT_EQ(restored["validation"], "ok");
  EXPECT_EQ(ReadFile(hosts.HostPath("b:22", "/ws/model.bin")),
            ReadFile(hosts.HostPath("a:22", "/ws/model.bin")));
  EXPECT_EQ(hosts.JobsRun("b:22"), 2);
  // Dying with its hello, before the job arrives: the job fails, and nothing on the host side
  // waits for a job for ever (the destructor joins every host thread).
  hosts.DieDuringNextJob("b:22", 0);
  auto early = b->RunJob(restore, nullptr);
  ASSERT_FALSE(early.has_value());
  EXPECT_EQ(early.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace standby
