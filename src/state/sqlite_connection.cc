#include <sqlite3.h>

#include <cctype>
#include <unordered_map>

#include "state/sql_connection.h"

namespace standby {
namespace {

// "$12" → "?12": SQLite's numbered parameters.
std::string ToSqlitePlaceholders(const std::string& sql) {
  std::string out = sql;
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '$' && std::isdigit(static_cast<unsigned char>(out[i + 1]))) out[i] = '?';
  }
  return out;
}

class SqliteConnection : public SqlConnection {
 public:
  SqliteConnection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : prepared_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }

  Status Exec(const std::string& sql, const std::vector<SqlValue>& params) override {
    return Run(sql, params, nullptr);
  }

  Result<std::vector<SqlRow>> Query(const std::string& sql,
                                    const std::vector<SqlValue>& params) override {
    std::vector<SqlRow> rows;
    RETURN_IF_ERROR(Run(sql, params, &rows));
    return rows;
  }

  Status ExecScript(const std::string& sql) override {
    // A script may change the schema: statements prepared before it are prepared again.
    for (auto& [text, stmt] : prepared_) sqlite3_finalize(stmt);
    prepared_.clear();
    char* message = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    std::string text = message ? message : "";
    sqlite3_free(message);
    if (rc != SQLITE_OK) return ToError(rc, text);
    return OkStatus();
  }

  int64_t ChangedRows() override { return sqlite3_changes64(db_); }
  sqlite3* handle() { return db_; }

  Error ToError(int rc, const std::string& detail) const {
    std::string message = "SQLite database " + path_ + ": " + detail;
    switch (rc & 0xff) {
      case SQLITE_FULL:
        return ResourceExhaustedError(message + " (the disk is full)");
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        return UnavailableError(message);
      case SQLITE_CONSTRAINT:
        return ConflictError(message);
      case SQLITE_CANTOPEN:
      case SQLITE_IOERR:
        return UnavailableError(message);
      case SQLITE_READONLY:
      case SQLITE_PERM:
        return PermissionDeniedError(message);
      case SQLITE_CORRUPT:
      case SQLITE_NOTADB:
        return CorruptionError(message);
      default:
        return InvalidArgumentError(message);
    }
  }

 private:
  // Statements are prepared once per connection and kept (the controller asks the same few
  // questions every round): parsing and planning cost more than running them.
  Status Run(const std::string& sql, const std::vector<SqlValue>& params,
             std::vector<SqlRow>* rows) {
    sqlite3_stmt* stmt = nullptr;
    auto cached = prepared_.find(sql);
    if (cached != prepared_.end()) {
      stmt = cached->second;
    } else {
      std::string text = ToSqlitePlaceholders(sql);
      int rc = sqlite3_prepare_v2(db_, text.c_str(), static_cast<int>(text.size()), &stmt, nullptr);
      if (rc != SQLITE_OK) return ToError(rc, sqlite3_errmsg(db_));
      if (prepared_.size() >= kMaxPrepared) {
        sqlite3_finalize(prepared_.begin()->second);
        prepared_.erase(prepared_.begin());
      }
      prepared_[sql] = stmt;
    }
    int rc = SQLITE_OK;
    for (size_t i = 0; i < params.size(); ++i) {
      int index = static_cast<int>(i + 1);
      rc = params[i] ? sqlite3_bind_text(stmt, index, params[i]->data(),
                                         static_cast<int>(params[i]->size()), SQLITE_TRANSIENT)
                     : sqlite3_bind_null(stmt, index);
      if (rc != SQLITE_OK) break;
    }
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
      rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW && rows != nullptr) {
        SqlRow row;
        for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
          if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
            row.push_back(std::nullopt);
          } else {
            const char* value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            row.emplace_back(
                std::string(value, static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
          }
        }
        rows->push_back(std::move(row));
      }
    }
    std::string message = sqlite3_errmsg(db_);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (rc != SQLITE_DONE) return ToError(rc, message);
    return OkStatus();
  }

  static constexpr size_t kMaxPrepared = 128;
  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> prepared_;
};

}  // namespace

Status CopySqliteDatabase(SqlConnection* from, SqlConnection* to) {
  auto* source = dynamic_cast<SqliteConnection*>(from);
  auto* target = dynamic_cast<SqliteConnection*>(to);
  if (source == nullptr || target == nullptr) {
    return InvalidArgumentError("CopySqliteDatabase copies SQLite databases only");
  }
  sqlite3_backup* backup = sqlite3_backup_init(target->handle(), "main", source->handle(), "main");
  if (backup == nullptr) return target->ToError(SQLITE_ERROR, sqlite3_errmsg(target->handle()));
  int rc = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return target->ToError(rc, sqlite3_errmsg(target->handle()));
  return OkStatus();
}

Result<std::unique_ptr<SqlConnection>> OpenSqlite(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  auto conn = std::make_unique<SqliteConnection>(db, path);
  if (rc != SQLITE_OK) return conn->ToError(rc, db ? sqlite3_errmsg(db) : "cannot open");
  sqlite3_busy_timeout(db, 5000);
  // WAL lets readers work while the controller writes; NORMAL sync is durable in WAL mode
  // except for the last transactions before a power loss.
  RETURN_IF_ERROR(conn->ExecScript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  return std::unique_ptr<SqlConnection>(std::move(conn));
}

}  // namespace standby
