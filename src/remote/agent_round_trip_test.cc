// The agent protocol end to end over the local transport: the real standby-agent binary.
#include "remote/local_transport.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include "testing/s3rver.h"
#include "testing/test_util.h"

namespace standby {
namespace {

class LocalTransportTest : public ::testing::Test {
 protected:
  std::string Agent() {
    const char* build = std::getenv("STANDBY_BUILD_DIR");
    return std::string(build ? build : ".") + "/standby-agent";
  }
  AgentJob Job(const std::string& command) {
    AgentJob job;
    job.command = command;
    job.repo = dir_.Sub("repo");
    job.instance_id = "gpu-1";
    job.secret_access_key = "EXAMPLE-not-used-for-a-directory-repo";
    return job;
  }
  TempDir dir_;
};

TEST_F(LocalTransportTest, SnapshotRestoreVerifyThroughTheAgent) {
  WriteFile(dir_.Sub("host-a/ws/model.bin"), RandomBytes(3 << 20, 1));
  WriteFile(dir_.Sub("host-a/ws/cfg/config.json"), "{}");
  LocalTransport transport(Agent());
  AgentJob snap = Job("snapshot");
  snap.workspace = dir_.Sub("host-a/ws");
  ASSERT_OK_AND_ASSIGN(auto created, transport.RunJob(snap, nullptr));
  EXPECT_EQ(created["snapshot_type"], "full");
  EXPECT_EQ(created["files_total"], 2);

  AgentJob restore = Job("restore");
  restore.target = dir_.Sub("host-b/ws");
  std::vector<AgentEvent> events;
  ASSERT_OK_AND_ASSIGN(
      auto restored, transport.RunJob(restore, [&](const AgentEvent& e) { events.push_back(e); }));
  EXPECT_EQ(restored["validation"], "ok");
  EXPECT_EQ(restored["files_restored"], 2);
  EXPECT_EQ(ReadFile(dir_.Sub("host-b/ws/model.bin")), ReadFile(dir_.Sub("host-a/ws/model.bin")));
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
  ASSERT_OK_AND_ASSIGN(auto verified, transport.RunJob(verify, nullptr));
  EXPECT_EQ(verified["validation"], "ok");
}

TEST_F(LocalTransportTest, AgentErrorsComeBackAsErrors) {
  LocalTransport transport(Agent());
  AgentJob restore = Job("restore");
  restore.target = dir_.Sub("out");
  auto missing = transport.RunJob(restore, nullptr);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("no standby repository"), std::string::npos);
  AgentJob newer = Job("health");
  newer.protocol = 99;
  auto refused = transport.RunJob(newer, nullptr);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("agent protocol 99"), std::string::npos);
  LocalTransport absent(dir_.Sub("no-such-agent"));
  EXPECT_FALSE(absent.RunJob(Job("health"), nullptr).has_value());
}

TEST_F(LocalTransportTest, HealthReportsTheHostWithoutAGpuBeingAnError) {
  LocalTransport transport(Agent());
  AgentJob health = Job("health");
  health.workspace = dir_.path();
  ASSERT_OK_AND_ASSIGN(auto h, transport.RunJob(health, nullptr));
  EXPECT_GT(h["uptime_s"].get<double>(), 0);
  EXPECT_GT(h["free_bytes"].get<uint64_t>(), 0u);
  EXPECT_TRUE(h["gpus"].is_array());
  if (h["gpus"].empty()) {
    EXPECT_EQ(h["gpu_status"], "no GPU");
  }
}

TEST_F(LocalTransportTest, WorkloadStartsDetachedAnswersHealthChecksAndStops) {
  LocalTransport transport(Agent());
  WriteFile(dir_.Sub("ws/index.html"), "model ready");
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
  ASSERT_OK_AND_ASSIGN(auto started, transport.RunJob(job, nullptr));  // returns while it runs
  EXPECT_EQ(started["state"], "running");
  EXPECT_TRUE(started["started"].get<bool>());
  int pid = started["pid"].get<int>();
  job.command = "workload start";
  ASSERT_OK_AND_ASSIGN(auto again, transport.RunJob(job, nullptr));
  EXPECT_FALSE(again["started"].get<bool>());  // idempotent: the same process
  EXPECT_EQ(again["pid"].get<int>(), pid);

  job.command = "health";
  nlohmann::json health;
  for (int attempt = 0; attempt < 50; ++attempt) {  // the server needs a moment to listen
    ASSERT_OK_AND_ASSIGN(health, transport.RunJob(job, nullptr));
    if (health["workload_health"]["ok"].get<bool>()) break;
    ::usleep(100'000);
  }
  EXPECT_TRUE(health["workload_alive"].get<bool>());
  EXPECT_TRUE(health["workload_health"]["ok"].get<bool>()) << health.dump();
  EXPECT_EQ(health["workload_health"]["status"], 200);
  EXPECT_EQ(ReadFile(dir_.Sub("ws/started.txt")), "token=llama-mini\n");

  job.command = "workload stop";
  ASSERT_OK_AND_ASSIGN(auto stopped, transport.RunJob(job, nullptr));
  EXPECT_EQ(stopped["state"], "stopped");
  EXPECT_TRUE(stopped["was_running"].get<bool>());
  // Gone: no such process, or only a zombie left for its new parent (the agent has exited).
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  EXPECT_TRUE(stat.empty() || stat.find(") Z ") != std::string::npos) << stat;
  job.command = "workload status";
  ASSERT_OK_AND_ASSIGN(auto status, transport.RunJob(job, nullptr));
  EXPECT_EQ(status["state"], "stopped");
  job.command = "health";
  ASSERT_OK_AND_ASSIGN(auto after, transport.RunJob(job, nullptr));
  EXPECT_FALSE(after["workload_health"]["ok"].get<bool>());
}

}  // namespace
}  // namespace standby
