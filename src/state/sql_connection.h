#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace standby {

using SqlValue = std::optional<std::string>;  // NULL or the value as text
using SqlRow = std::vector<SqlValue>;

enum class SqlDialect { kSqlite, kPostgres };

// One database connection. SQL uses $1, $2... placeholders in both dialects; values travel
// as text. Not thread-safe: a connection is used by one thread at a time (SqlPool).
// Errors: kUnavailable (retryable) when the server cannot be reached or the connection
// broke; kConflict for unique-key violations and serialization failures; kResourceExhausted
// for a full disk; kInvalidArgument for SQL the database rejects.
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual SqlDialect dialect() const = 0;
  virtual Status Exec(const std::string& sql, const std::vector<SqlValue>& params = {}) = 0;
  virtual Result<std::vector<SqlRow>> Query(const std::string& sql,
                                            const std::vector<SqlValue>& params = {}) = 0;
  // Several statements, no parameters (migrations).
  virtual Status ExecScript(const std::string& sql) = 0;
  // Rows changed by the last Exec.
  virtual int64_t ChangedRows() = 0;
};

// Opens `path` (created if missing), in WAL mode with a busy timeout.
Result<std::unique_ptr<SqlConnection>> OpenSqlite(const std::string& path);
// Replaces the content of SQLite database `to` with a copy of `from` (SQLite's online backup):
// the simulation starts each world's database from one migrated template.
Status CopySqliteDatabase(SqlConnection* from, SqlConnection* to);
// Connects with a libpq connection URI (postgresql://user:pass@host:port/db?sslmode=...).
Result<std::unique_ptr<SqlConnection>> OpenPostgres(const std::string& url);
// What OpenPostgres connects with: `url` plus connect_timeout=5 and, for a host that is not
// this machine, sslmode=require, unless the URL (or PGSSLMODE) says otherwise.
Result<std::string> PostgresConnInfo(const std::string& url);

}  // namespace standby
