#include "base/strings.h"
#include "cli/command.h"
#include "snapshot/verifier.h"

namespace standby {

int RunSnapshotVerify(const std::vector<std::string>& args) {
  const std::string command = "snapshot verify";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  if (inv->positional.size() != 1)
    return UsageError(command, "name the SNAPSHOT_ID to verify", inv->json);
  auto threads = ThreadsSetting(*inv);
  if (!threads) return UsageError(command, threads.error().message, inv->json);
  auto store = OpenRepoStore(*inv);
  if (!store) return Fail(store.error(), inv->json);
  auto manifest = LoadSnapshot(store->get(), inv->positional[0], inv->Flag("instance"));
  if (!manifest) return Fail(manifest.error(), inv->json);
  auto checked = VerifySnapshotData(store->get(), *manifest, *threads);
  if (!checked) return Fail(checked.error(), inv->json);
  bool ok = checked->problems.empty();
  const nlohmann::json data = {{"snapshot_id", manifest->header.snapshot_id},
                               {"validation", ok ? "ok" : "failed"},
                               {"chunks_checked", checked->chunks_checked},
                               {"chunks_expected", manifest->chunks.size()},
                               {"packs", checked->packs},
                               {"bytes_checked", checked->bytes_checked},
                               {"problems", checked->problems}};
  if (!inv->json) {
    for (const std::string& problem : checked->problems) Print("problem: " + problem);
    Print(std::string(ok ? "✓" : "✗") + " snapshot " + manifest->header.snapshot_id + ": " +
          std::to_string(checked->chunks_checked) + " chunks in " + std::to_string(checked->packs) +
          " packs checked (" + HumanBytes(checked->bytes_checked) + "), " +
          std::to_string(checked->problems.size()) + " problems");
  }
  if (!ok) {
    return FailWithDetails(CorruptionError("snapshot " + manifest->header.snapshot_id +
                                           " is damaged: " + checked->problems.front()),
                           inv->json, data);
  }
  if (inv->json) PrintJson(data);
  return kExitOk;
}

}  // namespace standby
