#include <algorithm>

#include "base/strings.h"
#include "cli/command.h"
#include "snapshot/lock.h"

namespace standby {

// `standby unlock --repo R [--all]`: shows the repository's locks and removes those nobody
// holds any more (stale, or left by a process of this host that is gone); --all removes
// every one.
int RunUnlock(const std::vector<std::string>& args) {
  const std::string command = "unlock";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  auto store = OpenRepoStore(*inv);
  if (!store) return Fail(store.error(), inv->json);
  auto repo = Repository::Open(store->get(), /*create=*/false);
  if (!repo) return Fail(repo.error(), inv->json);
  auto unlocked = RemoveStaleLocks(store->get(), Clock::Real(), inv->Has("all"));
  if (!unlocked) return Fail(unlocked.error(), inv->json);
  nlohmann::json list = nlohmann::json::array();
  for (const LockInfo& lock : unlocked->locks) {
    bool removed = std::find(unlocked->removed.begin(), unlocked->removed.end(), lock.key) !=
                   unlocked->removed.end();
    std::string why = !lock.readable     ? "unreadable"
                      : lock.holder_gone ? "its process is gone"
                      : lock.stale       ? "not refreshed for " +
                                         std::to_string(RepoLock::kStaleAfter.count()) + " minutes"
                                   : "held";
    list.push_back({{"key", lock.key},
                    {"kind", lock.kind},
                    {"holder", lock.Describe()},
                    {"state", why},
                    {"removed", removed}});
    if (!inv->json) {
      Print(std::string(removed ? "removed " : "kept    ") + lock.kind + " lock of " +
            lock.Describe() + " (" + why + ")");
    }
  }
  if (inv->json) {
    PrintJson({{"locks", list}, {"removed", unlocked->removed.size()}});
  } else if (unlocked->locks.empty()) {
    Print("the repository has no locks");
  } else if (unlocked->removed.size() < unlocked->locks.size()) {
    Say("held locks were kept: wait for their holders, or pass --all if you know they are dead");
  }
  return kExitOk;
}

}  // namespace standby
