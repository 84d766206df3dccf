#include "cli/command.h"
#include "failover/runtime.h"
#include "state/migrations.h"

namespace standby {

int RunDbMigrate(const std::vector<std::string>& args) {
  const std::string command = "db migrate";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  auto store = OpenStateFromConfig(inv->config);  // opening migrates
  if (!store) return Fail(store.error().WithContext("db migrate"), inv->json);
  Status flushed = (*store)->Flush();
  auto pending = (*store)->Pending();
  if (inv->json) {
    PrintJson({{"database", (*store)->Describe()},
               {"schema_version", EmbeddedMigrations(SqlDialect::kSqlite).back().version},
               {"spooled_records", pending ? *pending : 0},
               {"status", "ok"}});
  } else {
    Print("✓ " + (*store)->Describe() + " is at the newest schema");
  }
  if (!flushed) return Fail(flushed.error().WithContext("replaying the spool"), false);
  return kExitOk;
}

}  // namespace standby
