#include "base/strings.h"
#include "cli/command.h"
#include "snapshot/repository.h"
#include "snapshot/result_json.h"

namespace standby {

int RunSnapshotList(const std::vector<std::string>& args) {
  const std::string command = "snapshot list";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  auto store = OpenRepoStore(*inv);
  if (!store) return Fail(store.error(), inv->json);
  auto repo = Repository::Open(store->get(), /*create=*/false);
  if (!repo) return Fail(repo.error(), inv->json);
  std::vector<UnreadableObject> unreadable;
  auto snapshots = (*repo)->ListSnapshots(inv->Flag("instance"), &unreadable);
  if (!snapshots) return Fail(snapshots.error(), inv->json);
  if (inv->json) {
    nlohmann::json list = nlohmann::json::array();
    for (const SnapshotHeader& h : *snapshots) list.push_back(HeaderJson(h));
    nlohmann::json bad = nlohmann::json::array();
    for (const UnreadableObject& u : unreadable) {
      bad.push_back(
          {{"instance_id", u.instance_id}, {"key", u.key}, {"problem", EscapeControl(u.problem)}});
    }
    PrintJson({{"snapshots", std::move(list)},
               {"count", snapshots->size()},
               {"unreadable", std::move(bad)}});
    return kExitOk;
  }
  for (const UnreadableObject& u : unreadable) {
    std::fprintf(stderr, "warning: %s is unreadable: %s\n", EscapeControl(u.key).c_str(),
                 EscapeControl(u.problem).c_str());
  }
  std::printf("%-28s %-16s %-11s %8s %10s %10s  %s\n", "SNAPSHOT", "INSTANCE", "TYPE", "FILES",
              "SIZE", "UPLOADED", "CREATED");
  for (const SnapshotHeader& h : *snapshots) {
    std::printf("%-28s %-16s %-11s %8llu %10s %10s  %s\n", h.snapshot_id.c_str(),
                h.instance_id.c_str(), h.snapshot_type.c_str(),
                static_cast<unsigned long long>(h.files_total), HumanBytes(h.bytes_total).c_str(),
                HumanBytes(h.bytes_uploaded).c_str(), FormatRfc3339(h.created_at).c_str());
  }
  return kExitOk;
}

}  // namespace standby
