// The CLI's --ssh mode against real OpenSSH sshd hosts on loopback (SSH_ tests): a snapshot
// taken on one host restored on another, through a directory store and through s3rver, with
// the store's credentials kept off the hosts' process lists, files and the controller's output.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "testing/child_process.h"
#include "testing/s3rver.h"
#include "testing/sshd.h"
#include "tests/cli_runner.h"

namespace standby {
namespace {

constexpr char kSecret[] = "sbx-secret-4f1c9a7e2d0b6385";

class SshCliTest : public CliTest {
 protected:
  void SetUp() override {
    ProcessRun key = Standby("ssh-key --json", Env());
    ASSERT_EQ(key.exit_code, 0) << key.err;
    std::string public_key = key.json()["public_key"];
    ASSERT_TRUE(public_key.starts_with("ssh-ed25519 ")) << public_key;
    auto a = SshdHost::Start(public_key);
    ASSERT_TRUE(a.has_value()) << a.error().message;
    host_a_ = std::move(*a);
    auto b = SshdHost::Start(public_key);
    ASSERT_TRUE(b.has_value()) << b.error().message;
    host_b_ = std::move(*b);
    for (int i = 0; i < 8; ++i) {
      WriteFile(host_a_->root() + "/ws/shard" + std::to_string(i), RandomBytes(4 << 20, i));
    }
    WriteFile(host_a_->root() + "/ws/config/train.json", "{\"lr\": 0.001}");
  }
  std::string Env() { return "STANDBY_STATE_DIR=" + dir_.Sub("state"); }
  static std::string Ssh(const SshdHost& host) { return "--ssh " + host.target(); }

  // Snapshot on A, restore on B, verify on B; returns the three runs' JSON.
  void RoundTrip(const std::string& repo, const std::string& env) {
    ProcessRun snap = Standby("snapshot create " + Ssh(*host_a_) + " " + repo +
                                  " --instance gpu-1 --workspace " + host_a_->root() + "/ws --json",
                              env);
    ASSERT_EQ(snap.exit_code, 0) << snap.err;
    EXPECT_EQ(snap.json()["files_total"], 9);
    EXPECT_TRUE(snap.json()["transport"]["agent_uploaded"]);
    EXPECT_NE(snap.err.find("Full: 9 files"), std::string::npos) << snap.err;

    std::string to = host_b_->root() + "/restored";
    ProcessRun restore = Standby(
        "restore " + Ssh(*host_b_) + " " + repo + " --instance gpu-1 --to " + to + " --json", env);
    ASSERT_EQ(restore.exit_code, 0) << restore.err;
    EXPECT_EQ(restore.json()["validation"], "ok");
    EXPECT_EQ(restore.json()["files_restored"], 9);
    EXPECT_EQ(restore.json()["target"], to);
    EXPECT_TRUE(restore.json()["transport"]["agent_uploaded"]);  // first job on host B
    EXPECT_NE(restore.err.find("✓ Restored 9 files"), std::string::npos) << restore.err;

    ProcessRun verify = Standby(
        "verify " + Ssh(*host_b_) + " " + repo + " --instance gpu-1 --dir " + to + " --json", env);
    ASSERT_EQ(verify.exit_code, 0) << verify.err;
    EXPECT_EQ(verify.json()["validation"], "ok");
    EXPECT_FALSE(verify.json()["transport"]["agent_uploaded"]);  // uploaded once per host
    for (int i = 0; i < 8; ++i) {
      std::string name = "/shard" + std::to_string(i);
      ASSERT_EQ(ReadFile(to + name), ReadFile(host_a_->root() + "/ws" + name)) << name;
    }
  }

  std::unique_ptr<SshdHost> host_a_, host_b_;
};

TEST_F(SshCliTest, SSH_SnapshotOnOneHostRestoreOnAnotherThroughADirectoryStore) {
  RoundTrip("--repo " + dir_.Sub("repo"), Env());
  // A damaged file on the host: the remote verify fails exactly as a local one does.
  std::string restored = host_b_->root() + "/restored";
  WriteFile(restored + "/config/train.json", "{\"lr\": 0.1}");
  ProcessRun damaged = Standby("verify " + Ssh(*host_b_) + " --repo " + dir_.Sub("repo") +
                                   " --instance gpu-1 --dir " + restored + " --json",
                               Env());
  EXPECT_EQ(damaged.exit_code, 1);
  ASSERT_FALSE(damaged.out.empty()) << damaged.err;
  const nlohmann::json found = damaged.json()["error"]["details"];
  EXPECT_EQ(found["validation"], "failed");
  ASSERT_EQ(found["mismatches"].size(), 1u) << damaged.out;
  EXPECT_EQ(found["mismatches"][0]["path"], "config/train.json");
  ASSERT_EQ(damaged.ErrorLines().size(), 1u) << damaged.err;
  EXPECT_NE(damaged.ErrorLines()[0].find("does not match snapshot"), std::string::npos);
  ProcessRun health = Standby(
      "health " + Ssh(*host_b_) + " --workspace " + host_b_->root() + "/restored --json", Env());
  ASSERT_EQ(health.exit_code, 0) << health.err;
  EXPECT_EQ(health.json()["gpu_status"], "no GPU");
  EXPECT_EQ(health.json()["workload_alive"], false);
  EXPECT_GT(health.json()["free_bytes"].get<uint64_t>(), 0u);
  EXPECT_LT(std::abs(health.json()["clock_offset_ms"].get<int64_t>()), 5000);
  ProcessRun human = Standby("health " + Ssh(*host_b_), Env());
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("GPUs: no GPU"), std::string::npos) << human.out;
}

// Every file under `root` that contains `needle`.
std::vector<std::string> FilesContaining(const std::string& root, const std::string& needle) {
  std::vector<std::string> found;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file(ec)) continue;
    if (ReadFile(it->path()).find(needle) != std::string::npos) found.push_back(it->path());
  }
  return found;
}

TEST_F(SshCliTest, SSH_ThroughS3WithoutLeakingCredentials) {
  auto server = S3rver::Start();
  ASSERT_TRUE(server.has_value()) << server.error().message;
  // As an operator provides them: in .env beside the controller, never on a command line.
  WriteFile(dir_.Sub(".env"),
            std::string("AWS_ACCESS_KEY_ID=S3RVER\nAWS_SECRET_ACCESS_KEY=") + kSecret + "\n");
  std::string env = Env() + " STANDBY_S3_ENDPOINT=" + (*server)->endpoint();

  // Sample every process's argv (what `ps` shows) and the remote processes' environments
  // for the whole round trip.
  std::atomic<bool> done{false};
  std::atomic<int> samples{0}, agent_samples{0}, decoy_sightings{0};
  const std::vector<std::string> decoy_argv = {"sh", "-c", "sleep 5; true", kSecret};
  std::string decoy_cmdline;
  for (const std::string& arg : decoy_argv) decoy_cmdline += arg + '\0';
  std::vector<std::string> leaks;
  std::thread sampler([&] {
    while (!done) {
      for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string cmdline = ReadFile("/proc/" + name + "/cmdline");
        // The decoy's shell forks before exec-ing sleep; for that instant the child
        // carries the decoy's argv, which is the decoy, not a leak.
        if (cmdline == decoy_cmdline) {
          ++decoy_sightings;
        } else if (cmdline.find(kSecret) != std::string::npos) {
          leaks.push_back("argv of " + name);
        }
      }
      for (SshdHost* host : {host_a_.get(), host_b_.get()}) {
        for (pid_t pid : host->SessionProcesses()) {
          std::string seen = ProcessArgsAndEnvironment(pid);
          if (seen.find("/.cache/standby/agent-") != std::string::npos) ++agent_samples;
          if (seen.find(kSecret) != std::string::npos) {
            leaks.push_back("process " + std::to_string(pid) + ": " + seen.substr(0, 80));
          }
        }
      }
      ++samples;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  // A decoy with the secret in its argv proves the sampler would see a leak ("; true" keeps
  // the shell from exec-ing sleep, so the secret stays in its argv while it lives).
  auto decoy = SpawnChild(decoy_argv);
  ASSERT_TRUE(decoy.has_value());
  RoundTrip("--repo s3://standby-test/ssh", env);
  done = true;
  sampler.join();
  StopChild(*decoy);
  EXPECT_GT(decoy_sightings.load(), 0) << "the sampler did not see the decoy";
  EXPECT_TRUE(leaks.empty()) << leaks.front();
  EXPECT_GT(samples.load(), 10);
  EXPECT_GT(agent_samples.load(), 0) << "no sample caught a running agent";

  for (SshdHost* host : {host_a_.get(), host_b_.get()}) {
    auto files = FilesContaining(host->root(), kSecret);
    EXPECT_TRUE(files.empty()) << files.front();
  }
  auto state_files = FilesContaining(dir_.Sub("state"), kSecret);
  EXPECT_TRUE(state_files.empty()) << state_files.front();
  // The controller's own output, at debug level too.
  ProcessRun chatty =
      Standby("verify " + Ssh(*host_b_) + " --repo s3://standby-test/ssh --instance gpu-1 --dir " +
                  host_b_->root() + "/restored --log-level debug --json",
              env);
  ASSERT_EQ(chatty.exit_code, 0) << chatty.err;
  EXPECT_EQ(chatty.out.find(kSecret), std::string::npos);
  EXPECT_EQ(chatty.err.find(kSecret), std::string::npos);
}

// Ctrl-C while a host restores: the agent there is told to stop (its input closes), removes
// its temporary files and says so before the command exits.
TEST_F(SshCliTest, SSH_CtrlCDuringARestoreOnAHostCleansUpThere) {
  for (int i = 0; i < 6; ++i) {
    WriteFile(host_a_->root() + "/ws/big" + std::to_string(i), RandomBytes(32 << 20, 50 + i));
  }
  const std::string repo = " --repo " + dir_.Sub("repo");
  ProcessRun snap =
      Standby("snapshot create " + Ssh(*host_a_) + repo +
                  " --instance gpu-1 --pack-size-mb 1 --workspace " + host_a_->root() + "/ws",
              Env());
  ASSERT_EQ(snap.exit_code, 0) << snap.err;
  const std::string to = host_b_->root() + "/restored";
  auto temporaries = [&] {
    size_t found = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(to, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      found += it->path().filename().string().starts_with(".standby-restore-");
    }
    return found;
  };
  pid_t restore = StartStandby(
      "restore " + Ssh(*host_b_) + repo + " --instance gpu-1 --threads 1 --to " + to, Env());
  ASSERT_TRUE(WaitUntil([&] { return temporaries() > 0; }, std::chrono::seconds(20),
                        std::chrono::milliseconds(2)));
  ::kill(restore, SIGINT);
  ProcessRun stopped = Finish(restore, std::chrono::seconds(60));
  EXPECT_EQ(stopped.exit_code, 130) << stopped.err;
  EXPECT_NE(stopped.err.find("interrupted: restore of snapshot"), std::string::npos) << stopped.err;
  EXPECT_NE(stopped.err.find("temporary files removed; re-run with --overwrite to resume"),
            std::string::npos)
      << stopped.err;
  EXPECT_EQ(temporaries(), 0u);
  ProcessRun resumed = Standby(
      "restore " + Ssh(*host_b_) + repo + " --instance gpu-1 --overwrite --to " + to + " --json",
      Env());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(resumed.json()["validation"], "ok");
}

// Ctrl-C while a host writes a snapshot to S3: the agent keeps its grants while it cleans
// up, so its lock is deleted and nothing of the snapshot becomes visible.
TEST_F(SshCliTest, SSH_CtrlCDuringASnapshotToS3ReleasesTheLockOnTheHost) {
  for (int i = 0; i < 6; ++i) {
    WriteFile(host_a_->root() + "/ws/big" + std::to_string(i), RandomBytes(32 << 20, 70 + i));
  }
  auto server = S3rver::Start();
  ASSERT_TRUE(server.has_value()) << server.error().message;
  WriteFile(dir_.Sub(".env"), "AWS_ACCESS_KEY_ID=S3RVER\nAWS_SECRET_ACCESS_KEY=S3RVER\n");
  const std::string env = Env() + " STANDBY_S3_ENDPOINT=" + (*server)->endpoint();
  const std::string repo = " --repo s3://standby-test/stop";
  auto packs_stored = [&] {
    size_t found = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator((*server)->data_dir(), ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      found += it->path().string().find("/packs/") != std::string::npos && it->is_regular_file(ec);
    }
    return found;
  };
  pid_t snapshot = StartStandby("snapshot create " + Ssh(*host_a_) + repo +
                                    " --instance gpu-1 --pack-size-mb 1 --threads 1 "
                                    "--compression zstd --workspace " +
                                    host_a_->root() + "/ws",
                                env);
  ASSERT_TRUE(WaitUntil([&] { return packs_stored() > 4; }, std::chrono::seconds(40)));
  ::kill(snapshot, SIGINT);
  ProcessRun stopped = Finish(snapshot, std::chrono::seconds(60));
  EXPECT_EQ(stopped.exit_code, 130) << stopped.err;
  EXPECT_NE(stopped.err.find("interrupted: no snapshot was taken"), std::string::npos)
      << stopped.err;
  ProcessRun locks = Standby("unlock" + repo, env);
  EXPECT_EQ(locks.exit_code, 0) << locks.err;
  EXPECT_NE(locks.out.find("the repository has no locks"), std::string::npos) << locks.out;
  ProcessRun listed = Standby("snapshot list" + repo + " --json", env);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.json()["count"], 0);
}

TEST_F(SshCliTest, SSH_FailuresAreOneLineErrors) {
  std::string repo = " --repo " + dir_.Sub("repo");
  // Nobody listening.
  ProcessRun refused = Standby(
      "health --ssh root@127.0.0.1:" + std::to_string(FreeLoopbackPort()) + " --json", Env());
  EXPECT_EQ(refused.exit_code, 1);
  ASSERT_EQ(refused.ErrorLines().size(), 1u) << refused.err;
  EXPECT_NE(refused.ErrorLines()[0].find("cannot connect"), std::string::npos) << refused.err;

  // Malformed --ssh.
  ProcessRun malformed = Standby("health --ssh nohost", Env());
  EXPECT_EQ(malformed.exit_code, 1);
  EXPECT_NE(malformed.err.find("USER@HOST"), std::string::npos) << malformed.err;

  // A relative restore target is a usage error: it would name a path on the controller.
  ProcessRun relative =
      Standby("restore " + Ssh(*host_b_) + repo + " --instance gpu-1 --to restored", Env());
  EXPECT_EQ(relative.exit_code, 2);

  // A host whose key changed after first contact.
  ASSERT_EQ(Standby("health " + Ssh(*host_a_), Env()).exit_code, 0);
  ASSERT_TRUE(host_a_->ReplaceHostKey().has_value());
  ASSERT_TRUE(host_a_->Restart().has_value());
  ProcessRun changed = Standby("health " + Ssh(*host_a_), Env());
  EXPECT_EQ(changed.exit_code, 1);
  ASSERT_EQ(changed.ErrorLines().size(), 1u) << changed.err;
  EXPECT_NE(changed.ErrorLines()[0].find("host key of 127.0.0.1:"), std::string::npos)
      << changed.err;

  // A snapshot that does not exist: the agent's error, as one line.
  ProcessRun missing = Standby(
      "restore " + Ssh(*host_b_) + repo + " --instance nobody --to " + host_b_->root() + "/x",
      Env());
  EXPECT_EQ(missing.exit_code, 1);
  ASSERT_EQ(missing.ErrorLines().size(), 1u) << missing.err;
  EXPECT_NE(missing.ErrorLines()[0].find("agent: "), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace standby
