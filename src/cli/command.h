#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "snapshot/manifest.h"
#include "snapshot/repository.h"
#include "store/object_store.h"
#include "store/open_store.h"

namespace standby {

// A parsed command line with its configuration loaded and logging initialised.
struct Invocation {
  std::string command;                          // "snapshot create"
  std::map<std::string, std::string> flags;     // flags given (valueless ones map to "")
  std::map<std::string, std::string> defaults;  // the table's defaults of the others
  std::vector<std::string> positional;
  Config config;
  bool json = false;

  bool Has(const std::string& flag) const { return flags.contains(flag); }
  // The value given, else the table's default, else nothing.
  std::optional<std::string> Flag(const std::string& flag) const;
};

// Exit statuses: 0 full success, 1 the operation failed, 2 the command line was wrong.
constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// Parses `args` (after the command words) against the command's options in the command
// table (command_table.h); loads the configuration; sets up logging. An unknown option is
// an error that names the nearest known one.
Result<Invocation> Prepare(const std::string& command, const std::vector<std::string>& args);

// The output contract (docs/manual.md, "Conventions"): exit 0 success, 1 failure, 2 usage;
// with --json, stdout holds exactly one JSON document, the result or
// {"error": {"code", "message", "retryable"[, "details"]}}; human results on stdout,
// progress and logs on stderr.
nlohmann::json ErrorJson(std::string_view code, const std::string& message, bool retryable,
                         const nlohmann::json& details = nullptr);
// Prints `error` as one line on stderr (and its error document on stdout with --json), with
// secrets redacted; returns the exit status to use (128 + the signal for an interruption,
// kCancelled).
int Fail(const Error& error, bool json);
// Fail() for a check whose findings are the answer (a failed verification): they travel in
// the error document's `details`.
int FailWithDetails(const Error& error, bool json, const nlohmann::json& details);
int UsageError(const std::string& command, const std::string& message, bool json);
// Whether the command line asks for --json (for errors found before it is parsed).
bool WantsJson(const std::vector<std::string>& args);
void PrintJson(const nlohmann::json& j);
// A line of a command's human result, on stdout.
void Print(const std::string& line);
// A line of progress or log, on stderr.
void Say(const std::string& line);
// A progress line of a library or agent job: its result line ("✓ ...") goes to stdout as a
// result (unless --json, when stdout holds only the document), the rest to stderr.
void Progress(const std::string& line, bool json);

// Opens the repository's store from the `repo` setting.
Result<std::unique_ptr<ObjectStore>> OpenRepoStore(const Invocation& inv);
// Absolute form of a path given on the command line.
Result<std::string> AbsolutePath(const std::string& path);
// The `threads` setting (0 = automatic).
Result<size_t> ThreadsSetting(const Invocation& inv);

int RunSnapshotCreate(const std::vector<std::string>& args);
int RunSnapshotList(const std::vector<std::string>& args);
int RunSnapshotVerify(const std::vector<std::string>& args);
int RunSnapshotPrune(const std::vector<std::string>& args);
int RunRestore(const std::vector<std::string>& args);
int RunVerify(const std::vector<std::string>& args);
int RunDemo(const std::vector<std::string>& args);
int RunDbMigrate(const std::vector<std::string>& args);
int RunMetrics(const std::vector<std::string>& args);
int RunHealth(const std::vector<std::string>& args);
int RunSshKey(const std::vector<std::string>& args);
int RunOffers(const std::vector<std::string>& args);
int RunProvision(const std::vector<std::string>& args);
int RunInstances(const std::vector<std::string>& args);
int RunDestroy(const std::vector<std::string>& args);
int RunReap(const std::vector<std::string>& args);
int RunMarketKill(const std::vector<std::string>& args);
int RunMarketHost(const std::vector<std::string>& args);
int RunProtect(const std::vector<std::string>& args);
int RunUnprotect(const std::vector<std::string>& args);
int RunPause(const std::vector<std::string>& args);
int RunResume(const std::vector<std::string>& args);
int RunServe(const std::vector<std::string>& args);
int RunStatus(const std::vector<std::string>& args);
int RunEvents(const std::vector<std::string>& args);
int RunFailover(const std::vector<std::string>& args);
int RunDrill(const std::vector<std::string>& args);
int RunToken(const std::vector<std::string>& args);
int RunSnapshotNow(const std::vector<std::string>& args);
int RunFenceConfirm(const std::vector<std::string>& args);
int RunUnlock(const std::vector<std::string>& args);
int RunDoctor(const std::vector<std::string>& args);
int RunConfigShow(const std::vector<std::string>& args);
int RunCompletion(const std::vector<std::string>& args);
int RunVersion(const std::vector<std::string>& args);
int RunHelp(const std::vector<std::string>& args);
int RunManPage(const std::vector<std::string>& args);

}  // namespace standby
