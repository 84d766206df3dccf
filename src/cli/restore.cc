#include "cli/command.h"
#include "snapshot/restorer.h"

namespace standby {

int RunRestore(const std::vector<std::string>& args) {
  const std::string command = "restore";
  auto inv = Prepare(command, args,
                     {{"instance", true, ""},
                      {"to", true, ""},
                      {"overwrite", false, ""},
                      {"allow-external-symlinks", false, ""},
                      {"threads", true, "threads"}},
                     1);
  if (!inv) return UsageError(command, inv.error().message, false);
  std::optional<std::string> snapshot_id;
  if (!inv->positional.empty()) snapshot_id = inv->positional[0];
  auto instance = inv->Flag("instance");
  auto to = inv->Flag("to");
  if ((!snapshot_id && !instance) || !to) {
    return UsageError(command, "name a SNAPSHOT_ID or --instance ID, and --to DIR", inv->json);
  }
  RestoreOptions options;
  auto target = AbsolutePath(*to);
  if (!target) return Fail(target.error(), inv->json);
  options.target = *target;
  options.overwrite = inv->Has("overwrite");
  options.allow_external_symlinks = inv->Has("allow-external-symlinks");
  auto threads = ThreadsSetting(*inv);
  if (!threads) return UsageError(command, threads.error().message, inv->json);
  options.threads = *threads;
  options.progress = [](const std::string& line) { Say(line); };

  auto store = OpenRepoStore(*inv);
  if (!store) return Fail(store.error(), inv->json);
  auto manifest = LoadSnapshot(store->get(), snapshot_id, instance);
  if (!manifest) return Fail(manifest.error(), inv->json);
  auto result = RestoreSnapshot(store->get(), *manifest, options);
  if (!result) return Fail(result.error(), inv->json);
  if (inv->json) {
    PrintJson({{"snapshot_id", result->snapshot_id},
               {"instance_id", manifest->header.instance_id},
               {"snapshot_type", manifest->header.snapshot_type},
               {"target", options.target},
               {"files_restored", result->files_restored},
               {"files_expected", result->files_expected},
               {"files_unchanged", result->files_unchanged},
               {"files_removed", result->files_removed},
               {"bytes_restored", result->bytes_restored},
               {"bytes_downloaded", result->bytes_downloaded},
               {"bytes_reused", result->bytes_reused},
               {"duration_ms", result->duration_ms},
               {"validation", result->validation},
               {"store_requests", (*store)->RequestCounters().requests},
               {"store_retries", (*store)->RequestCounters().retries}});
  }
  if (result->validation != "ok") {
    return Fail(CorruptionError("restored tree does not match snapshot " + result->snapshot_id),
                false);
  }
  return kExitOk;
}

}  // namespace standby
