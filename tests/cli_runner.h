#pragma once
// Runs the real `standby` binary as an operator would, capturing exit status and output.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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
    std::string binary = BuiltBinary("standby");
    // HOME is the test's (unless `env` sets one): a command without a state dir never touches
    // the real one.
    const std::string home = env.find("HOME=") == std::string::npos ? " HOME=" + dir_.path() : "";
    std::string command = "cd " + dir_.path() + " && env " + env + home + " " + wrapper + " " +
                          binary + " " + args + " >" + dir_.Sub(".out") + " 2>" + dir_.Sub(".err") +
                          " </dev/null";
    int status = std::system(command.c_str());
    ProcessRun run;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.out = ReadFile(dir_.Sub(".out"));
    run.err = ReadFile(dir_.Sub(".err"));
    return run;
  }
  std::string Repo() { return "--repo " + dir_.Sub("repo"); }
  void Workspace() {
    WriteFile(dir_.Sub("ws/model.bin"), RandomBytes(3 << 20, 1));
    WriteFile(dir_.Sub("ws/config.json"), "{}");
    WriteFile(dir_.Sub("ws/notes/a.txt"), std::string(100000, 'a'));
  }
  TempDir dir_;
};

}  // namespace standby
