#pragma once
// Runs the real `standby` binary as an operator would, capturing exit status and output.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "testing/child_process.h"
#include "testing/s3rver.h"
#include "testing/sshd.h"
#include "testing/test_util.h"

namespace standby {

struct ProcessRun {
  int exit_code = -1;
  std::string out;
  std::string err;
  nlohmann::json json() const { return nlohmann::json::parse(out); }
  // stderr lines that are errors
  std::vector<std::string> ErrorLines() const {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < err.size()) {
      size_t end = err.find('\n', start);
      if (end == std::string::npos) end = err.size();
      std::string line = err.substr(start, end - start);
      if (line.starts_with("error: ")) lines.push_back(line);
      start = end + 1;
    }
    return lines;
  }
};

class CliTest : public ::testing::Test {
 public:
 protected:
  // Runs `standby ARGS` in the test's directory; `env` is prepended as VAR=value words and
  // `wrapper` (e.g. "faketime -f +20m") runs the binary.
  ProcessRun Standby(const std::string& args, const std::string& env = "",
                     const std::string& wrapper = "") {
    int status = std::system(Command(args, env, wrapper, ".out", ".err", "").c_str());
    ProcessRun run;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.out = ReadFile(dir_.Sub(".out"));
    run.err = ReadFile(dir_.Sub(".err"));
    return run;
  }
  // Starts `standby ARGS` as Standby() runs it, but returns at once with its pid (the
  // standby process itself, to send signals to); Finish() waits for it.
  pid_t StartStandby(const std::string& args, const std::string& env = "") {
    auto pid = SpawnChild({"bash", "-c", Command(args, env, "", ".bg.out", ".bg.err", "exec ")});
    EXPECT_TRUE(pid.has_value()) << pid.error().message;
    return pid.value_or(-1);
  }
  // Polls `ready` every `every` until it holds (true) or `limit` has passed (false).
  static bool WaitUntil(const std::function<bool()>& ready, std::chrono::milliseconds limit,
                        std::chrono::milliseconds every = std::chrono::milliseconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!ready()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(every);
    }
    return true;
  }
  // Waits for a StartStandby() process, at most `limit` (then it is killed and the exit code
  // is -1).
  ProcessRun Finish(pid_t pid, std::chrono::seconds limit = std::chrono::seconds(120)) {
    ProcessRun run;
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        StopChild(pid);
        status = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    run.exit_code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.out = ReadFile(dir_.Sub(".bg.out"));
    run.err = ReadFile(dir_.Sub(".bg.err"));
    return run;
  }
  // `count` real sshd hosts that accept standby's key (`standby ssh-key`), listed as a static
  // pool of RTX 4090s in <test dir>/pool.toml. Fewer (after a failed expectation) when one
  // cannot start.
  std::vector<std::unique_ptr<SshdHost>> StartPool(size_t count, const std::string& env) {
    std::vector<std::unique_ptr<SshdHost>> hosts;
    ProcessRun key = Standby("ssh-key", env);
    EXPECT_EQ(key.exit_code, 0) << key.err;
    std::string toml;
    for (size_t i = 0; i < count && key.exit_code == 0; ++i) {
      auto host = SshdHost::Start(key.out.substr(0, key.out.find('\n')));
      EXPECT_TRUE(host.has_value()) << host.error().message;
      if (!host) break;
      toml += "[[host]]\nssh = \"" + (*host)->target() + "\"\ngpu_name = \"RTX 4090\"\n";
      hosts.push_back(std::move(*host));
    }
    WriteFile(dir_.Sub("pool.toml"), toml);
    return hosts;
  }
  std::string Repo() { return "--repo " + dir_.Sub("repo"); }
  void Workspace() {
    WriteFile(dir_.Sub("ws/model.bin"), RandomBytes(3 << 20, 1));
    WriteFile(dir_.Sub("ws/config.json"), "{}");
    WriteFile(dir_.Sub("ws/notes/a.txt"), std::string(100000, 'a'));
  }
  TempDir dir_;

 private:
  std::string Command(const std::string& args, const std::string& env, const std::string& wrapper,
                      const std::string& out, const std::string& err, const std::string& exec) {
    std::string binary = BuiltBinary("standby");
    // HOME is the test's (unless `env` sets one): a command without a state dir never touches
    // the real one.
    const std::string home = env.find("HOME=") == std::string::npos ? " HOME=" + dir_.path() : "";
    return "cd " + dir_.path() + " && " + exec + "env " + env + home + " " + wrapper + " " +
           binary + " " + args + " >" + dir_.Sub(out) + " 2>" + dir_.Sub(err) + " </dev/null";
  }
};

// A CliTest with its own S3 server (s3rver on loopback) whose credentials reach standby
// through .env, as an operator would provide them.
class S3CliTest : public CliTest {
 protected:
  void SetUp() override {
    auto started = S3rver::Start();
    ASSERT_TRUE(started.has_value()) << started.error().message;
    server_ = std::move(*started);
    WriteFile(dir_.Sub(".env"), "AWS_ACCESS_KEY_ID=S3RVER\nAWS_SECRET_ACCESS_KEY=S3RVER\n");
  }
  // The endpoint setting for the server (or for another port: a proxy, a dead port).
  std::string S3Env(int port = 0) {
    return "STANDBY_S3_ENDPOINT=http://127.0.0.1:" + std::to_string(port ? port : server_->port());
  }
  std::string S3Repo(const std::string& prefix = "repo") {
    return "--repo s3://standby-test/" + prefix;
  }
  std::unique_ptr<S3rver> server_;
};

}  // namespace standby
