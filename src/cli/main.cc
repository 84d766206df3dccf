// standby: keeps GPU workloads alive on rented machines. main only dispatches.
#include <sys/prctl.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/strings.h"
#include "cli/command.h"
#include "cli/command_table.h"
#include "cli/help.h"

namespace {

// The command the leading words name (two words before one: "snapshot create"), and how
// many words that took.
std::pair<const standby::CommandSpec*, size_t> Lookup(const std::vector<std::string>& args) {
  if (args.size() >= 2) {
    if (auto* c = standby::FindCommand(args[0] + " " + args[1])) return {c, 2};
  }
  if (auto* c = standby::FindCommand(args[0])) return {c, 1};
  return {nullptr, 0};
}

int Dispatch(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fputs(standby::UsageText().c_str(), stderr);
    return standby::kExitUsage;
  }
  if (args[0] == "--help" || args[0] == "-h") return standby::RunHelp({});
  if (args[0] == "--version") return standby::RunVersion({});
  auto [command, words] = Lookup(args);
  const bool json = standby::WantsJson(args);
  const bool wants_help = std::find(args.begin(), args.end(), "--help") != args.end() ||
                          std::find(args.begin(), args.end(), "-h") != args.end();
  // `snapshot --help`: the group's subcommands (a wrong subcommand stays an error).
  if (!command && wants_help && args.size() >= 2 && (args[1] == "--help" || args[1] == "-h") &&
      standby::IsCommandGroup(args[0])) {
    return standby::RunHelp({args[0]});
  }
  if (!command) {
    const std::string message = standby::UnknownCommandMessage(args);
    std::fprintf(stderr, "error: %s\n", message.c_str());
    if (json) standby::PrintJson(standby::ErrorJson("usage", message, false));
    return standby::kExitUsage;
  }
  const std::vector<std::string> rest(args.begin() + static_cast<long>(words), args.end());
  if (command->name != "help" && (std::find(rest.begin(), rest.end(), "--help") != rest.end() ||
                                  std::find(rest.begin(), rest.end(), "-h") != rest.end())) {
    std::fputs(standby::CommandHelpText(*command).c_str(), stdout);
    return standby::kExitOk;
  }
  return command->run(rest);
}

}  // namespace

int main(int argc, char** argv) {
  // The controller holds store, provider and database credentials: no core dump may carry
  // them to disk, and no other process of this user may read its memory.
  struct rlimit no_core = {0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  try {
    return Dispatch(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    const std::string message = "internal error: " + standby::EscapeControl(e.what());
    std::fprintf(stderr, "error: %s\n", message.c_str());
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (standby::WantsJson(args))
      standby::PrintJson(standby::ErrorJson("internal", message, false));
    return standby::kExitFailed;
  }
}
