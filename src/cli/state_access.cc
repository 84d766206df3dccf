#include "cli/state_access.h"

#include <cstdlib>

#include "env/file_system.h"
#include "state/open_state_store.h"

namespace standby {

std::string StateDir(const Invocation& inv) {
  if (auto dir = inv.config.Get("state_dir"); dir && !dir->empty()) return *dir;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.local/state/standby";
}

Result<std::unique_ptr<SpoolingStateStore>> OpenStateFor(const Invocation& inv) {
  std::string dir = StateDir(inv);
  ASSIGN_OR_RETURN(auto store, OpenStateStore(inv.config.GetOr("database_url", ""), dir));
  RETURN_IF_ERROR(MakeDirs(FileSystem::Real(), dir, 0700));
  return std::make_unique<SpoolingStateStore>(std::move(store), JoinPath(dir, "state.spool"));
}

}  // namespace standby
