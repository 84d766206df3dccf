#pragma once

#include <string>
#include <vector>

namespace standby {

struct EmbeddedSql {
  std::string name;  // "0001_initial"
  std::string sql;
};

// Generated at build time from src/state/migrations/<dialect>/*.sql.
const std::vector<EmbeddedSql>& EmbeddedSqliteMigrations();
const std::vector<EmbeddedSql>& EmbeddedPostgresMigrations();

}  // namespace standby
