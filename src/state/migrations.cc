#include "state/migrations.h"

#include <algorithm>
#include <chrono>

#include "base/sha256_hex.h"
#include "base/strings.h"
#include "state/embedded_migrations.h"

namespace standby {
namespace {

std::vector<Migration> Load(const std::vector<EmbeddedSql>& files) {
  std::vector<Migration> out;
  for (const EmbeddedSql& file : files) {
    Migration m;
    m.name = file.name;
    m.version = static_cast<int>(ParseUint(m.name.substr(0, m.name.find('_'))).value_or(0));
    m.sql = file.sql;
    m.checksum = Sha256Hex(m.sql);
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  return out;
}

Result<std::vector<std::string>> Tables(SqlConnection* conn) {
  const char* sql =
      conn->dialect() == SqlDialect::kSqlite
          ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
          : "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema()";
  ASSIGN_OR_RETURN(auto rows, conn->Query(sql));
  std::vector<std::string> names;
  for (const auto& row : rows) names.push_back(row[0].value_or(""));
  return names;
}

Result<MigrationReport> MigrateLocked(SqlConnection* conn) {
  const std::vector<Migration>& embedded = EmbeddedMigrations(conn->dialect());
  const int newest = embedded.empty() ? 0 : embedded.back().version;
  ASSIGN_OR_RETURN(auto tables, Tables(conn));
  bool ours = std::find(tables.begin(), tables.end(), "schema_migrations") != tables.end();
  if (!ours && !tables.empty()) {
    return InvalidArgumentError("the database already has tables (" + tables.front() +
                                ", ...) but no schema_migrations: it is not a standby database; "
                                "point DATABASE_URL at an empty database");
  }
  if (!ours) {
    RETURN_IF_ERROR(conn->ExecScript(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)"));
  }
  ASSIGN_OR_RETURN(
      auto rows,
      conn->Query("SELECT version, name, checksum FROM schema_migrations ORDER BY version"));
  MigrationReport report;
  std::vector<int> applied;
  for (const auto& row : rows) {
    int version = static_cast<int>(ParseUint(row[0].value_or("")).value_or(0));
    applied.push_back(version);
    report.from_version = std::max(report.from_version, version);
    if (version > newest) {
      return InvalidArgumentError("the database was migrated by a newer standby (schema version " +
                                  std::to_string(version) + ", this binary knows up to " +
                                  std::to_string(newest) + "); upgrade standby");
    }
    auto it = std::find_if(embedded.begin(), embedded.end(),
                           [&](const Migration& m) { return m.version == version; });
    if (it != embedded.end() && it->checksum != row[2].value_or("")) {
      return CorruptionError("migration " + row[1].value_or("?") +
                             " was applied with a different checksum than this binary's; the "
                             "schema was changed by hand or by another build");
    }
  }
  for (const Migration& m : embedded) {
    if (std::find(applied.begin(), applied.end(), m.version) != applied.end()) continue;
    Status ran = conn->ExecScript(m.sql);
    if (!ran) return ran.error().WithContext("migration " + m.name);
    RETURN_IF_ERROR(
        conn->Exec("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES "
                   "($1, $2, $3, $4)",
                   {std::to_string(m.version), m.name, m.checksum,
                    std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count())}));
    report.applied.push_back(m.name);
  }
  report.to_version = newest;
  if (report.applied.empty()) report.to_version = std::max(report.from_version, 0);
  return report;
}

}  // namespace

const std::vector<Migration>& EmbeddedMigrations(SqlDialect dialect) {
  static const std::vector<Migration> sqlite = Load(EmbeddedSqliteMigrations());
  static const std::vector<Migration> postgres = Load(EmbeddedPostgresMigrations());
  return dialect == SqlDialect::kSqlite ? sqlite : postgres;
}

Result<MigrationReport> Migrate(SqlConnection* conn) {
  bool pg = conn->dialect() == SqlDialect::kPostgres;
  RETURN_IF_ERROR(conn->ExecScript(pg ? "BEGIN" : "BEGIN IMMEDIATE"));
  if (pg) {
    Status locked = conn->ExecScript("SELECT pg_advisory_xact_lock(7307263710419566)");
    if (!locked) {
      conn->ExecScript("ROLLBACK").IgnoreError();  // the lock failure is the error to report
      return locked.error();
    }
  }
  auto report = MigrateLocked(conn);
  if (!report) {
    conn->ExecScript("ROLLBACK").IgnoreError();  // nothing half-migrated; report the cause
    return report.error();
  }
  RETURN_IF_ERROR(conn->ExecScript("COMMIT"));
  return report;
}

}  // namespace standby
