#include "base/strings.h"
#include "cli/command.h"
#include "cli/remote.h"
#include "snapshot/result_json.h"
#include "snapshot/verifier.h"

namespace standby {

int RunVerify(const std::vector<std::string>& args) {
  const std::string command = "verify";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  auto dir = inv->Flag("dir");
  if (inv->positional.empty() && !inv->Has("instance")) {
    return UsageError(command, "name the SNAPSHOT_ID (or --instance ID for its latest)", inv->json);
  }
  if (!dir) return UsageError(command, "--dir DIR is required", inv->json);
  auto threads = ThreadsSetting(*inv);
  if (!threads) return UsageError(command, threads.error().message, inv->json);
  std::optional<std::string> snapshot_id;
  if (!inv->positional.empty()) snapshot_id = inv->positional[0];
  if (inv->Has("ssh")) {
    if (!dir->starts_with("/")) {
      return UsageError(command, "with --ssh, --dir must be an absolute path on the host",
                        inv->json);
    }
    auto where = HostCommandFor(*inv, /*with_store=*/true);
    if (!where) return Fail(where.error(), inv->json);
    nlohmann::json found;  // the agent prints the report lines
    auto remote = VerifyOnHost(*where, inv->Flag("instance").value_or(""), snapshot_id.value_or(""),
                               *dir, *threads, &found);
    if (!remote && found.is_object()) {  // validation failed there: report it as locally
      return FailWithDetails(CorruptionError(VerifyFailure(found)), inv->json, found);
    }
    if (!remote) return Fail(remote.error(), inv->json);
    if (inv->json) PrintJson(*remote);
    return kExitOk;
  }
  auto path = AbsolutePath(*dir);
  if (!path) return Fail(path.error(), inv->json);
  auto store = OpenRepoStore(*inv);
  if (!store) return Fail(store.error(), inv->json);
  auto manifest = LoadSnapshot(store->get(), snapshot_id, inv->Flag("instance"));
  if (!manifest) return Fail(manifest.error(), inv->json);
  auto result = VerifyDirectory(*manifest, *path, FileSystem::Real(), *threads);
  if (!result) return Fail(result.error(), inv->json);
  nlohmann::json data = VerifyJson(*manifest, *path, *result);
  if (!inv->json) {
    for (const std::string& line : VerifyReport(data)) Print(line);
  }
  if (result->validation != Validation::kOk) {
    return FailWithDetails(CorruptionError(VerifyFailure(data)), inv->json, data);
  }
  if (inv->json) PrintJson(data);
  return kExitOk;
}

}  // namespace standby
