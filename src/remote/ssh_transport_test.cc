// The SSH transport against a real OpenSSH sshd on loopback (SSH_ tests): deployment,
// host key pinning, and every way a remote job can fail without ever reporting success.
#include "remote/ssh_transport.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "remote/ssh_identity.h"
#include "testing/s3rver.h"
#include "testing/sshd.h"
#include "testing/test_util.h"

namespace standby {
namespace {

class SshTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(identity_, EnsureControllerKey(FileSystem::Real(), dir_.Sub("state")));
    ASSERT_OK_AND_ASSIGN(host_, SshdHost::Start(identity_.public_key));
  }

  std::string Agent() { return BuiltBinary("standby-agent"); }

  SshOptions Options(SshdHost* host) {
    SshOptions options;
    auto target = ParseSshTarget(host->target());
    EXPECT_TRUE(target.has_value());
    options.target = *target;
    options.private_key_path = identity_.private_key_path;
    options.pins = &pins_;
    options.connect_timeout = std::chrono::seconds(5);
    options.clock = Clock::Real();
    return options;
  }

  AgentJob Job(const std::string& command) {
    AgentJob job;
    job.command = command;
    job.repo = dir_.Sub("repo");
    job.instance_id = "gpu-1";
    return job;
  }

  // A workspace of `files` files of `each` bytes on the host, snapshotted through the agent.
  void SnapshotWorkspace(int files, size_t each) {
    for (int i = 0; i < files; ++i) {
      WriteFile(host_->root() + "/ws/f" + std::to_string(i), RandomBytes(each, 100 + i));
    }
    SshTransport transport(Options(host_.get()), Agent());
    AgentJob job = Job("snapshot");
    job.workspace = host_->root() + "/ws";
    ASSERT_OK(transport.RunJob(job, nullptr));
  }

  TempDir dir_;
  SshIdentity identity_;
  HostKeyPins pins_{FileSystem::Real(), dir_.Sub("state")};
  std::unique_ptr<SshdHost> host_;
};

TEST_F(SshTransportTest, SSH_DeploysTheAgentOnceAndRunsJobs) {
  SshTransport first(Options(host_.get()), Agent());
  ASSERT_OK_AND_ASSIGN(auto health, first.RunJob(Job("health"), nullptr));
  EXPECT_TRUE(first.last_timings().uploaded);
  EXPECT_EQ(health["gpu_status"], "no GPU");
  EXPECT_TRUE(health["uptime_s"].get<double>() > 0);

  std::string deployed = host_->home() + "/.cache/standby/agent-" +
                         first.remote_agent_path().substr(first.remote_agent_path().rfind('-') + 1);
  struct stat st;
  ASSERT_EQ(::stat(deployed.c_str(), &st), 0) << deployed;
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  EXPECT_EQ(ReadFile(deployed), ReadFile(Agent()));

  // A second job on the same connection, and one on a new connection: no upload.
  ASSERT_OK(first.RunJob(Job("health"), nullptr));
  EXPECT_FALSE(first.last_timings().uploaded);
  SshTransport second(Options(host_.get()), Agent());
  ASSERT_OK(second.RunJob(Job("health"), nullptr));
  EXPECT_FALSE(second.last_timings().uploaded);
  EXPECT_GT(second.last_timings().connect_ms, 0);
  EXPECT_GT(second.last_timings().first_event_ms, 0);
  // Nothing but the agent was left in the cache directory (no temporary upload files).
  ASSERT_OK_AND_ASSIGN(auto names, FileSystem::Real()->ListDir(host_->home() + "/.cache/standby"));
  EXPECT_EQ(names.size(), 1u);
}

TEST_F(SshTransportTest, SSH_ChangedHostKeyIsRefused) {
  SshTransport transport(Options(host_.get()), Agent());
  ASSERT_OK(transport.RunJob(Job("health"), nullptr));  // pins the key
  ASSERT_OK(host_->ReplaceHostKey());
  ASSERT_OK(host_->Restart());
  SshTransport again(Options(host_.get()), Agent());
  auto refused = again.RunJob(Job("health"), nullptr);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(refused.error().message.find("host key of 127.0.0.1:"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("changed"), std::string::npos);
  // A different pin name (a new instance id) trusts the new key on first use.
  SshOptions renamed = Options(host_.get());
  renamed.pin_name = "instance-42";
  SshTransport fresh(renamed, Agent());
  EXPECT_OK(fresh.RunJob(Job("health"), nullptr));
}

TEST_F(SshTransportTest, SSH_ConnectionRefusedAndAuthenticationFailure) {
  SshOptions nobody = Options(host_.get());
  nobody.target.port = static_cast<uint16_t>(FreeLoopbackPort());
  SshTransport refused(nobody, Agent());
  auto result = refused.RunJob(Job("health"), nullptr);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(result.error().message.find("cannot connect"), std::string::npos)
      << result.error().message;

  ASSERT_OK_AND_ASSIGN(SshIdentity stranger,
                       EnsureControllerKey(FileSystem::Real(), dir_.Sub("other-state")));
  SshOptions wrong_key = Options(host_.get());
  wrong_key.private_key_path = stranger.private_key_path;
  SshTransport denied(wrong_key, Agent());
  result = denied.RunJob(Job("health"), nullptr);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(result.error().message.find("authentication"), std::string::npos)
      << result.error().message;
}

// Runs a restore and, at its first progress event, does `interrupt` to it; the restore must
// fail with an error (never succeed), and a second restore must then complete it.
class InterruptedRestoreTest : public SshTransportTest {
 protected:
  void RunInterrupted(const std::function<void(int64_t agent_pid)>& interrupt,
                      const std::string& expected_words, std::atomic<bool>* cancel = nullptr) {
    SnapshotWorkspace(16, 4 << 20);
    SshTransport transport(Options(host_.get()), Agent());
    transport.SetCancelFlag(cancel);
    AgentJob restore = Job("restore");
    restore.target = host_->root() + "/restored";
    restore.threads = 1;  // slow enough to be caught mid-way
    int64_t agent_pid = 0;
    bool interrupted = false;
    auto result = transport.RunJob(restore, [&](const AgentEvent& event) {
      if (event.type == "progress" && !interrupted) {
        interrupted = true;
        interrupt(agent_pid);
      }
    });
    ASSERT_TRUE(interrupted) << "the restore finished before its first progress event";
    ASSERT_FALSE(result.has_value()) << "an interrupted restore reported success";
    std::cerr << "interrupted restore: " << result.error().message << "\n";
    EXPECT_NE(result.error().message.find(expected_words), std::string::npos)
        << result.error().message;

    SshTransport rerun(Options(host_.get()), Agent());
    restore.overwrite = true;
    ASSERT_OK_AND_ASSIGN(auto done, rerun.RunJob(restore, nullptr));
    EXPECT_EQ(done["validation"], "ok");
    for (int i = 0; i < 16; ++i) {
      std::string name = "/f" + std::to_string(i);
      ASSERT_EQ(ReadFile(host_->root() + "/restored" + name),
                ReadFile(host_->root() + "/ws" + name))
          << name;
    }
  }
};

std::vector<pid_t> AgentProcesses(SshdHost* host) {
  std::vector<pid_t> out;
  for (pid_t pid : host->SessionProcesses()) {
    if (ProcessArgsAndEnvironment(pid).find("/.cache/standby/agent-") != std::string::npos) {
      out.push_back(pid);
    }
  }
  return out;
}

TEST_F(InterruptedRestoreTest, SSH_AgentKilledMidRestore) {
  RunInterrupted(
      [&](int64_t) {
        auto agents = AgentProcesses(host_.get());
        ASSERT_FALSE(agents.empty());
        for (pid_t pid : agents) ::kill(pid, SIGKILL);
      },
      "before reporting a result");
}

TEST_F(InterruptedRestoreTest, SSH_ConnectionCutMidRestore) {
  RunInterrupted(
      [&](int64_t) {
        // The per-connection sshd processes: the TCP connection dies with them.
        for (pid_t pid : host_->SessionProcesses()) {
          if (ProcessArgsAndEnvironment(pid).starts_with("sshd:")) ::kill(pid, SIGKILL);
        }
      },
      "did not complete");
}

TEST_F(InterruptedRestoreTest, SSH_CancelledMidRestore) {
  std::atomic<bool> cancel{false};
  RunInterrupted(
      [&](int64_t) {
        cancel = true;
        ASSERT_FALSE(AgentProcesses(host_.get()).empty());
      },
      "cancelled", &cancel);
}

TEST_F(SshTransportTest, SSH_CancelStopsTheRemoteAgent) {
  // A restore reports progress while it runs (a snapshot only logs at its end), so the
  // agent is certainly alive at the first progress event.
  SnapshotWorkspace(16, 4 << 20);
  std::atomic<bool> cancel{false};
  SshTransport transport(Options(host_.get()), Agent());
  transport.SetCancelFlag(&cancel);
  AgentJob job = Job("restore");
  job.target = host_->root() + "/restored";
  job.threads = 1;
  bool saw_agent = false;
  auto result = transport.RunJob(job, [&](const AgentEvent& event) {
    if (event.type != "progress" || cancel) return;
    saw_agent = !AgentProcesses(host_.get()).empty();
    cancel = true;
  });
  ASSERT_FALSE(result.has_value());
  ASSERT_TRUE(saw_agent);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {  // bounded: 5 s
    gone = AgentProcesses(host_.get()).empty();
    if (!gone) usleep(50'000);
  }
  EXPECT_TRUE(gone) << "the agent kept running after the job was cancelled";
}

}  // namespace
}  // namespace standby
