#include "base/strings.h"
#include "cli/command.h"
#include "cli/interrupt.h"
#include "cli/remote.h"
#include "failover/operations.h"
#include "failover/runtime.h"
#include "snapshot/result_json.h"
#include "snapshot/snapshot_writer.h"

namespace standby {

int RunSnapshotCreate(const std::vector<std::string>& args) {
  const std::string command = "snapshot create";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  StopSignal* stop = CatchInterrupts("stopping at the next chunk; the lock is released");
  auto instance = inv->Flag("instance");
  auto workspace = inv->Flag("workspace");
  if (!instance || !workspace) {
    return UsageError(command, "--instance ID and --workspace DIR are required", inv->json);
  }
  SnapshotOptions options;
  options.clock = Clock::Real();
  options.instance_id = *instance;
  options.force_full = inv->Has("full");
  auto path = AbsolutePath(*workspace);
  if (!path) return Fail(path.error(), inv->json);
  options.workspace = *path;
  auto compression = ParseCompression(inv->config.GetOr("snapshot.compression", "lz4"));
  if (!compression) return UsageError(command, compression.error().message, inv->json);
  options.compression = *compression;
  auto pack_mb = inv->config.GetUint("snapshot.pack_size_mb");
  if (!pack_mb || *pack_mb < 1 || *pack_mb > 1024) {
    return UsageError(command, "pack size must be 1–1024 MiB", inv->json);
  }
  options.pack_size = *pack_mb * 1024 * 1024;
  auto wait = inv->config.GetUint("snapshot.lock_wait_seconds");
  if (!wait) return UsageError(command, wait.error().message, inv->json);
  options.lock_wait = std::chrono::seconds(*wait);
  auto threads = ThreadsSetting(*inv);
  if (!threads) return UsageError(command, threads.error().message, inv->json);
  options.threads = *threads;
  options.cancel = stop;

  nlohmann::json data;
  if (inv->Has("ssh")) {
    auto where = HostCommandFor(*inv, /*with_store=*/true);
    if (!where) return Fail(where.error(), inv->json);
    where->cancel = &stop->flag();
    SnapshotJobOptions job{std::string(CompressionName(options.compression)), *pack_mb, *wait,
                           options.threads};
    // The agent sends the summary line (Progress puts it on stdout).
    auto remote =
        SnapshotOnHost(*where, options.instance_id, options.workspace, options.force_full, job);
    if (!remote) return Fail(remote.error(), inv->json);
    data = std::move(*remote);
  } else {
    auto store = OpenRepoStore(*inv);
    if (!store) return Fail(store.error(), inv->json);
    auto result = CreateSnapshot(store->get(), options);
    if (!result) return Fail(result.error(), inv->json);
    data = SnapshotJson(*result, store->get());
    if (!inv->json) Print(SnapshotSummary(data));
  }
  // Best effort: the snapshot is stored whatever the state store says.
  auto runtime = OpenControllerRuntime(inv->config, RuntimeParts::kState);
  Status recorded = runtime ? RecordHandSnapshot(&(*runtime)->ctx, data) : runtime.error();
  if (!recorded) {
    Say("warning: the snapshot is stored but not recorded in the state store (" +
        recorded.error().message + "); `status` will not show its age");
  }
  if (inv->json) PrintJson(data);
  return kExitOk;
}

}  // namespace standby
