#include "base/strings.h"
#include "cli/command.h"
#include "snapshot/verifier.h"

namespace standby {

int RunVerify(const std::vector<std::string>& args) {
  const std::string command = "verify";
  auto inv = Prepare(command, args,
                     {{"dir", true, ""}, {"instance", true, ""}, {"threads", true, "threads"}}, 1);
  if (!inv) return UsageError(command, inv.error().message, false);
  auto dir = inv->Flag("dir");
  if (inv->positional.empty() && !inv->Has("instance")) {
    return UsageError(command, "name the SNAPSHOT_ID (or --instance ID for its latest)", inv->json);
  }
  if (!dir) return UsageError(command, "--dir DIR is required", inv->json);
  auto threads = ThreadsSetting(*inv);
  if (!threads) return UsageError(command, threads.error().message, inv->json);
  auto path = AbsolutePath(*dir);
  if (!path) return Fail(path.error(), inv->json);
  auto store = OpenRepoStore(*inv);
  if (!store) return Fail(store.error(), inv->json);
  std::optional<std::string> snapshot_id;
  if (!inv->positional.empty()) snapshot_id = inv->positional[0];
  auto manifest = LoadSnapshot(store->get(), snapshot_id, inv->Flag("instance"));
  if (!manifest) return Fail(manifest.error(), inv->json);
  auto result = VerifyDirectory(*manifest, *path, FileSystem::Real(), *threads);
  if (!result) return Fail(result.error(), inv->json);
  if (inv->json) {
    nlohmann::json mismatches = nlohmann::json::array();
    for (const Mismatch& m : result->mismatches) {
      mismatches.push_back({{"path", m.path}, {"problem", m.problem}, {"detail", m.detail}});
    }
    PrintJson({{"validation", result->validation},
               {"files_restored", result->files_restored},
               {"files_expected", result->files_expected},
               {"snapshot_id", manifest->header.snapshot_id},
               {"dir", *path},
               {"entries_checked", result->entries_checked},
               {"bytes_verified", result->bytes_verified},
               {"mismatches", std::move(mismatches)},
               {"extra", result->extra}});
  } else {
    for (const Mismatch& m : result->mismatches)
      Say("mismatch: " + m.path + ": " + m.problem + " (" + m.detail + ")");
    for (const std::string& extra : result->extra)
      Say("extra: " + extra + " (not in the snapshot)");
    Say(std::string(result->validation == "ok" ? "✓" : "✗") + " validation " + result->validation +
        ": " + std::to_string(result->files_restored) + "/" +
        std::to_string(result->files_expected) + " files match snapshot " +
        manifest->header.snapshot_id + " (" + HumanBytes(result->bytes_verified) + " hashed)");
  }
  if (result->validation != "ok") {
    std::fprintf(stderr, "error: %s does not match snapshot %s (%zu mismatches, first: %s)\n",
                 path->c_str(), manifest->header.snapshot_id.c_str(), result->mismatches.size(),
                 result->mismatches.front().path.c_str());
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace standby
