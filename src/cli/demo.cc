#include "failover/demo.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "base/strings.h"
#include "cli/command.h"
#include "env/file_system.h"

namespace standby {

// `standby demo`: a real failover on the embedded defaults (failover/demo.h).
int RunDemo(const std::vector<std::string>& args) {
  const std::string command = "demo";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  DemoOptions options;
  if (auto flag = inv->Flag("size-mb")) {
    auto parsed = ParseUint(*flag);
    if (!parsed || *parsed < 8 || *parsed > 65536) {
      return UsageError(command, "--size-mb must be an integer from 8 to 65536", inv->json);
    }
    options.workspace_bytes = *parsed << 20;
  }
  FileSystem* fs = FileSystem::Real();
  if (auto dir = inv->Flag("dir")) {
    auto abs = AbsolutePath(*dir);
    if (!abs) return Fail(abs.error(), inv->json);
    options.dir = *abs;
    if (Status made = MakeDirs(fs, options.dir); !made) return Fail(made.error(), inv->json);
  } else {
    std::string tmpl =
        JoinPath(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp", "standby-demo-XXXXXX");
    if (::mkdtemp(tmpl.data()) == nullptr) return Fail(ErrnoError(errno, "mkdtemp"), inv->json);
    options.dir = tmpl;
  }
  options.say = [](const std::string& line) { Say(line); };
  if (!inv->Has("non-interactive") && !inv->json && ::isatty(STDIN_FILENO)) {
    options.pause = [](const std::string& next) {
      Say("  [Enter] " + next);
      std::string line;
      std::getline(std::cin, line);
    };
  }
  auto summary = RunDemo(options);
  if (!inv->Has("keep") && !inv->Has("dir")) RemoveAll(fs, options.dir).IgnoreError();
  if (!summary) return Fail(summary.error(), inv->json);
  if (inv->json) PrintJson(*summary);
  return kExitOk;
}

}  // namespace standby
