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
  const nlohmann::json report = {
      {"database", (*store)->Describe()},
      {"schema_version", EmbeddedMigrations(SqlDialect::kSqlite).back().version},
      {"spooled_records", pending ? *pending : 0}};
  if (!inv->json) Print("✓ " + (*store)->Describe() + " is at the newest schema");
  if (!flushed) {
    return FailWithDetails(flushed.error().WithContext("replaying the spool"), inv->json, report);
  }
  if (inv->json) PrintJson(report);
  return kExitOk;
}

}  // namespace standby
