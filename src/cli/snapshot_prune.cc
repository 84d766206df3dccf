#include "base/strings.h"
#include "cli/command.h"
#include "snapshot/pruner.h"

namespace standby {

int RunSnapshotPrune(const std::vector<std::string>& args) {
  const std::string command = "snapshot prune";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  auto instance = inv->Flag("instance");
  auto keep = inv->Flag("keep-last");
  if (!instance || !keep)
    return UsageError(command, "--instance ID and --keep-last N are required", inv->json);
  auto keep_last = ParseUint(*keep);
  if (!keep_last || *keep_last < 1)
    return UsageError(command, "--keep-last must be an integer ≥ 1", inv->json);
  PruneOptions options;
  options.clock = Clock::Real();
  options.instance_id = *instance;
  options.keep_last = *keep_last;
  if (auto wait = inv->Flag("lock-wait-seconds")) {
    auto seconds = ParseUint(*wait);
    if (!seconds) return UsageError(command, "--lock-wait-seconds must be an integer", inv->json);
    options.lock_wait = std::chrono::seconds(*seconds);
  }
  auto store = OpenRepoStore(*inv);
  if (!store) return Fail(store.error(), inv->json);
  auto result = PruneSnapshots(store->get(), options);
  if (!result) return Fail(result.error(), inv->json);
  if (inv->json) {
    PrintJson({{"instance_id", *instance},
               {"removed", result->removed},
               {"kept", result->kept},
               {"packs_deleted", result->packs_deleted},
               {"packs_kept", result->packs_kept},
               {"bytes_freed", result->bytes_freed},
               {"unreadable", result->unreadable}});
  } else {
    for (const std::string& u : result->unreadable) {
      std::fprintf(stderr, "warning: %s; every pack of its instance was kept\n", u.c_str());
    }
    Print("✓ Pruned " + std::to_string(result->removed.size()) + " snapshots of " + *instance +
          " (kept " + std::to_string(result->kept.size()) + "), deleted " +
          std::to_string(result->packs_deleted) + " packs, freed " +
          HumanBytes(result->bytes_freed));
  }
  return kExitOk;
}

}  // namespace standby
