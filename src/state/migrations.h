#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "state/sql_connection.h"

namespace standby {

// A numbered SQL file from src/state/migrations/<dialect>/, compiled into the binary.
struct Migration {
  int version = 0;
  std::string name;
  std::string sql;
  std::string checksum;  // SHA-256 of `sql`, hex
};

const std::vector<Migration>& EmbeddedMigrations(SqlDialect dialect);

struct MigrationReport {
  int from_version = 0;
  int to_version = 0;
  std::vector<std::string> applied;  // names
};

// Brings the schema to the newest embedded version inside one transaction (PostgreSQL:
// under an advisory lock, so concurrent controllers migrate once), recording each migration
// with its checksum in schema_migrations. Re-running is a no-op. Refuses, changing nothing:
// a database migrated by a newer standby; a recorded migration whose checksum differs from
// the embedded one; a database with tables but no schema_migrations (not ours).
Result<MigrationReport> Migrate(SqlConnection* conn);

}  // namespace standby
