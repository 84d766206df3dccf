#include "cli/command.h"
#include "cli/interrupt.h"
#include "cli/remote.h"
#include "snapshot/restorer.h"
#include "snapshot/result_json.h"

namespace standby {

int RunRestore(const std::vector<std::string>& args) {
  const std::string command = "restore";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  StopSignal* stop = CatchInterrupts("stopping at the next chunk and removing temporary files");
  std::optional<std::string> snapshot_id;
  if (!inv->positional.empty()) snapshot_id = inv->positional[0];
  auto instance = inv->Flag("instance");
  auto to = inv->Flag("to");
  if ((!snapshot_id && !instance) || !to) {
    return UsageError(command, "name a SNAPSHOT_ID or --instance ID, and --to DIR", inv->json);
  }
  RestoreOptions options;
  options.clock = Clock::Real();
  auto target = inv->Has("ssh") ? Result<std::string>(*to) : AbsolutePath(*to);
  if (!target) return Fail(target.error(), inv->json);
  options.target = *target;
  options.overwrite = inv->Has("overwrite");
  options.allow_external_symlinks = inv->Has("allow-external-symlinks");
  options.keep_special_bits = inv->Has("keep-special-bits");
  auto threads = ThreadsSetting(*inv);
  if (!threads) return UsageError(command, threads.error().message, inv->json);
  options.threads = *threads;
  options.progress = [json = inv->json](const std::string& line) { Progress(line, json); };
  options.cancel = stop;

  if (inv->Has("ssh")) {
    if (!options.target.starts_with("/")) {
      return UsageError(command, "with --ssh, --to must be an absolute path on the host",
                        inv->json);
    }
    auto where = HostCommandFor(*inv, /*with_store=*/true);
    if (!where) return Fail(where.error(), inv->json);
    where->cancel = &stop->flag();
    RestoreOnHostArgs on_host;
    on_host.instance_id = instance.value_or("");
    on_host.snapshot_id = snapshot_id.value_or("");
    on_host.target = options.target;
    on_host.options.overwrite = options.overwrite;
    on_host.options.allow_external_symlinks = options.allow_external_symlinks;
    on_host.options.keep_special_bits = options.keep_special_bits;
    on_host.options.threads = options.threads;
    auto remote = RestoreOnHost(*where, on_host);
    if (!remote) return Fail(remote.error(), inv->json);
    if (inv->json) PrintJson(*remote);
    return kExitOk;
  }
  auto store = OpenRepoStore(*inv);
  if (!store) return Fail(store.error(), inv->json);
  auto manifest = LoadSnapshot(store->get(), snapshot_id, instance);
  if (!manifest) return Fail(manifest.error(), inv->json);
  auto result = RestoreSnapshot(store->get(), *manifest, options);
  if (!result) return Fail(result.error(), inv->json);
  const nlohmann::json report = RestoreJson(*manifest, options.target, *result, store->get());
  if (result->validation != Validation::kOk) {
    return FailWithDetails(
        CorruptionError("restored tree does not match snapshot " + result->snapshot_id), inv->json,
        report);
  }
  if (inv->json) PrintJson(report);
  return kExitOk;
}

}  // namespace standby
