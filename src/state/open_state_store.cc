#include "state/open_state_store.h"

#include "env/file_system.h"
#include "state/sql_state_store.h"

namespace standby {

std::string RedactDatabaseUrl(const std::string& url) {
  size_t scheme = url.find("://");
  size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

Result<std::unique_ptr<StateStore>> OpenStateStore(const std::string& database_url,
                                                   const std::string& state_dir) {
  if (database_url.starts_with("postgresql://") || database_url.starts_with("postgres://")) {
    std::string described = RedactDatabaseUrl(database_url);
    auto store = SqlStateStore::Open([database_url] { return OpenPostgres(database_url); },
                                     described, /*pool_size=*/4);
    if (!store) return store.error();
    return std::unique_ptr<StateStore>(std::move(*store));
  }
  std::string path;
  if (database_url.empty()) {
    if (state_dir.empty())
      return InvalidArgumentError("no state directory for the SQLite database");
    RETURN_IF_ERROR(EnsurePrivateDirectory(state_dir));
    path = JoinPath(state_dir, "standby.db");
  } else if (database_url.starts_with("sqlite:///")) {
    path = database_url.substr(9);
  } else {
    return InvalidArgumentError(
        "DATABASE_URL must be postgresql://user:password@host:port/database or sqlite:///path, "
        "got " +
        RedactDatabaseUrl(database_url));
  }
  auto store = SqlStateStore::Open([path] { return OpenSqlite(path); }, "sqlite://" + path,
                                   /*pool_size=*/1);
  if (!store) return store.error();
  return std::unique_ptr<StateStore>(std::move(*store));
}

}  // namespace standby

namespace standby {

Result<std::unique_ptr<SpoolingStateStore>> OpenSpooledStateStore(const std::string& database_url,
                                                                  const std::string& state_dir) {
  ASSIGN_OR_RETURN(auto store, OpenStateStore(database_url, state_dir));
  RETURN_IF_ERROR(EnsurePrivateDirectory(state_dir));
  auto spooled =
      std::make_unique<SpoolingStateStore>(std::move(store), JoinPath(state_dir, "state.spool"));
  spooled->Flush().IgnoreError();  // best effort: what the database misses stays spooled
  return spooled;
}

}  // namespace standby
