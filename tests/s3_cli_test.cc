// The CLI against a real S3 server (s3rver on loopback): round trips, a skewed clock,
// a misbehaving network, and interoperability with rclone in both directions.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "testing/s3rver.h"
#include "tests/cli_runner.h"

extern char** environ;

namespace standby {
namespace {

// Runs `command` with a shell in `dir`; its exit status.
int Shell(const std::string& dir, const std::string& command) {
  int status = std::system(("cd " + dir + " && " + command + " >/dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// rclone's environment for the S3 server on `port` ("s3:" remote).
std::string RcloneEnv(int port) {
  return "env -u AWS_CA_BUNDLE RCLONE_CONFIG_S3_TYPE=s3 RCLONE_CONFIG_S3_PROVIDER=Other "
         "RCLONE_CONFIG_S3_ENDPOINT=http://127.0.0.1:" +
         std::to_string(port) +
         " RCLONE_CONFIG_S3_ACCESS_KEY_ID=S3RVER RCLONE_CONFIG_S3_SECRET_ACCESS_KEY=S3RVER ";
}

TEST_F(S3CliTest, S3_SnapshotRestoreVerifyThroughS3) {
  Workspace();
  ProcessRun full =
      Standby("snapshot create " + S3Repo() + " --instance gpu-1 --workspace ws --json", S3Env());
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_EQ(full.json()["files_total"], 3);
  EXPECT_LT(full.json()["store_requests"].get<int>(),
            40);  // small files are packed, not PUT one by one
  EXPECT_EQ(full.err.find("S3RVER"), std::string::npos);
  WriteFile(dir_.Sub("ws/config.json"), "{\"v\": 2}");
  ProcessRun inc =
      Standby("snapshot create " + S3Repo() + " --instance gpu-1 --workspace ws --json", S3Env());
  ASSERT_EQ(inc.exit_code, 0) << inc.err;
  EXPECT_EQ(inc.json()["snapshot_type"], "incremental");
  ProcessRun restore =
      Standby("restore " + S3Repo() + " --instance gpu-1 --to out --json", S3Env());
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(restore.json()["validation"], "ok");
  EXPECT_EQ(ReadFile(dir_.Sub("out/model.bin")), ReadFile(dir_.Sub("ws/model.bin")));
  std::string id = inc.json()["snapshot_id"];
  EXPECT_EQ(Standby("verify " + S3Repo() + " " + id + " --dir out", S3Env()).exit_code, 0);
  EXPECT_EQ(Standby("snapshot verify " + S3Repo() + " " + id, S3Env()).exit_code, 0);
  EXPECT_EQ(
      Standby("snapshot prune " + S3Repo() + " --instance gpu-1 --keep-last 1", S3Env()).exit_code,
      0);
}

TEST_F(S3CliTest, S3_ClientClockTwentyMinutesAheadStillWorks) {
  Workspace();
  // faketime preloads itself; under ASan the runtime must be told that is fine.
  std::string env = "ASAN_OPTIONS=verify_asan_link_order=0 " + S3Env();
  ProcessRun run =
      Standby("snapshot create " + S3Repo() + " --instance gpu-1 --workspace ws --json", env,
              "faketime -f +20m");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("Clock skew: local clock is"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("ahead of the object store; signing with corrected time"),
            std::string::npos);
  ProcessRun restore =
      Standby("restore " + S3Repo() + " --instance gpu-1 --to out", env, "faketime -f +20m");
  EXPECT_EQ(restore.exit_code, 0) << restore.err;
}

TEST_F(S3CliTest, S3_MissingCredentialsNameTheVariables) {
  ASSERT_EQ(::unlink(dir_.Sub(".env").c_str()), 0);
  ProcessRun run = Standby("snapshot list " + S3Repo(),
                           "-u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY " + S3Env());
  EXPECT_EQ(run.exit_code, 1);
  ASSERT_EQ(run.ErrorLines().size(), 1u) << run.err;
  EXPECT_NE(run.err.find("AWS_ACCESS_KEY_ID"), std::string::npos);
  EXPECT_NE(run.err.find("B2_KEY_ID"), std::string::npos);
}

// The S3 mistakes users make, each answered at once with the fix: a bucket that does not
// exist (named, not "no repository"), an endpoint without http:// in front of a plain-HTTP
// server (no TLS retries; the hint), and a port nothing listens on.
TEST_F(S3CliTest, S3_MistakenLocationsAreNamedWithTheFix) {
  ProcessRun bucket = Standby("snapshot list --repo s3://no-such-bucket/x", S3Env());
  EXPECT_EQ(bucket.exit_code, 1);
  ASSERT_EQ(bucket.ErrorLines().size(), 1u) << bucket.err;
  EXPECT_NE(bucket.err.find("bucket no-such-bucket does not exist"), std::string::npos)
      << bucket.err;
  const std::string port = std::to_string(server_->port());
  ProcessRun scheme = Standby("snapshot list " + S3Repo(), "STANDBY_S3_ENDPOINT=127.0.0.1:" + port);
  EXPECT_EQ(scheme.exit_code, 1);
  ASSERT_EQ(scheme.ErrorLines().size(), 1u) << scheme.err;
  EXPECT_NE(scheme.err.find("the endpoint speaks plain HTTP? use http://127.0.0.1:" + port),
            std::string::npos)
      << scheme.err;
  EXPECT_EQ(scheme.err.find("attempts"), std::string::npos) << scheme.err;
  ProcessRun refused = Standby("snapshot list " + S3Repo(), S3Env(FreeLoopbackPort()));
  EXPECT_EQ(refused.exit_code, 1);
  ASSERT_EQ(refused.ErrorLines().size(), 1u) << refused.err;
  EXPECT_NE(refused.err.find("connection refused (gave up after "), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("is the store listening there? check --s3-endpoint"),
            std::string::npos)
      << refused.err;
}

TEST_F(S3CliTest, S3_SnapshotCompletesThroughAProxyFailingEveryFifthRequest) {
  Workspace();
  int port = FreeLoopbackPort();
  std::vector<std::string> args = {"node",
                                   SourceDir() + "/tests/tools/faulty_proxy.js",
                                   std::to_string(port),
                                   std::to_string(server_->port()),
                                   "503",
                                   "5"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  ASSERT_EQ(posix_spawnp(&pid, "node", nullptr, nullptr, argv.data(), environ), 0);
  ASSERT_TRUE(WaitForPort(port, 10000));
  ProcessRun snap = Standby(
      "snapshot create " + S3Repo() + " --instance gpu-1 --workspace ws --json", S3Env(port));
  ProcessRun restore =
      Standby("restore " + S3Repo() + " --instance gpu-1 --to out --json", S3Env(port));
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ASSERT_EQ(snap.exit_code, 0) << snap.err;
  EXPECT_GT(snap.json()["store_retries"].get<int>(), 0);
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_GT(restore.json()["store_retries"].get<int>(), 0);
  EXPECT_EQ(ReadFile(dir_.Sub("out/notes/a.txt")), ReadFile(dir_.Sub("ws/notes/a.txt")));
}

TEST_F(S3CliTest, S3_RcloneReadsWhatStandbyWroteAndTheOtherWayRound) {
  Workspace();
  ProcessRun snap =
      Standby("snapshot create " + S3Repo() + " --instance gpu-1 --workspace ws --json", S3Env());
  ASSERT_EQ(snap.exit_code, 0) << snap.err;
  std::string id = snap.json()["snapshot_id"];
  // rclone downloads the repository; standby reads the copy as a local repository.
  // (--fast-list: s3rver omits nested prefixes from delimiter listings.)
  ASSERT_EQ(Shell(dir_.path(), RcloneEnv(server_->port()) +
                                   "rclone copy --fast-list s3:standby-test/repo local-copy"),
            0);
  EXPECT_EQ(Standby("snapshot verify --repo local-copy " + id).exit_code, 0);
  ProcessRun from_copy = Standby("restore --repo local-copy " + id + " --to out1 --json");
  ASSERT_EQ(from_copy.exit_code, 0) << from_copy.err;
  EXPECT_EQ(from_copy.json()["validation"], "ok");
  // rclone uploads a local repository written by standby; standby restores it from S3.
  ASSERT_EQ(Standby("snapshot create --repo local-repo --instance gpu-2 --workspace ws").exit_code,
            0);
  ASSERT_EQ(Shell(dir_.path(),
                  RcloneEnv(server_->port()) + "rclone copy local-repo s3:standby-test/uploaded"),
            0);
  ProcessRun from_s3 =
      Standby("restore " + S3Repo("uploaded") + " --instance gpu-2 --to out2 --json", S3Env());
  ASSERT_EQ(from_s3.exit_code, 0) << from_s3.err;
  EXPECT_EQ(ReadFile(dir_.Sub("out2/model.bin")), ReadFile(dir_.Sub("ws/model.bin")));
}

}  // namespace
}  // namespace standby
