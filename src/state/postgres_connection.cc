#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>

#include "base/log.h"
#include "base/strings.h"
#include "env/loopback.h"
#include "state/sql_connection.h"
#include "state/sql_errors.h"

namespace standby {
namespace {

class PostgresConnection : public SqlConnection {
 public:
  explicit PostgresConnection(PGconn* conn) : conn_(conn) {}
  ~PostgresConnection() override { PQfinish(conn_); }

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }

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
    RETURN_IF_ERROR(EnsureConnected());
    PGresult* res = PQexec(conn_, sql.c_str());
    Status status = Check(res);
    PQclear(res);
    return status;
  }

  int64_t ChangedRows() override { return changed_; }

 private:
  Status EnsureConnected() {
    if (PQstatus(conn_) == CONNECTION_OK) return OkStatus();
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) {
      return UnavailableError(
          Redact("PostgreSQL connection lost: " + Trimmed(PQerrorMessage(conn_))));
    }
    return OkStatus();
  }

  static std::string Trimmed(const char* text) {
    std::string out = text ? text : "";
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    for (char& c : out) {
      if (c == '\n') c = ' ';
    }
    return out;
  }

  Status Check(PGresult* res) {
    ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      const char* tuples = PQcmdTuples(res);
      changed_ = tuples && *tuples ? std::strtoll(tuples, nullptr, 10) : 0;
      return OkStatus();
    }
    std::string message = "PostgreSQL: " + Trimmed(PQresultErrorMessage(res));
    const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    std::string sqlstate = state ? state : "";
    return SqlStateError(sqlstate, Redact(message), PQstatus(conn_) != CONNECTION_OK);
  }

  Status Run(const std::string& sql, const std::vector<SqlValue>& params,
             std::vector<SqlRow>* rows) {
    RETURN_IF_ERROR(EnsureConnected());
    std::vector<const char*> values;
    for (const SqlValue& p : params) values.push_back(p ? p->c_str() : nullptr);
    PGresult* res = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                 values.data(), nullptr, nullptr, 0);
    Status status = Check(res);
    if (status && rows != nullptr) {
      int n = PQntuples(res), cols = PQnfields(res);
      for (int r = 0; r < n; ++r) {
        SqlRow row;
        for (int c = 0; c < cols; ++c) {
          if (PQgetisnull(res, r, c)) {
            row.push_back(std::nullopt);
          } else {
            row.emplace_back(
                std::string(PQgetvalue(res, r, c), static_cast<size_t>(PQgetlength(res, r, c))));
          }
        }
        rows->push_back(std::move(row));
      }
    }
    PQclear(res);
    return status;
  }

  PGconn* conn_;
  int64_t changed_ = 0;
};

}  // namespace

Result<std::string> PostgresConnInfo(const std::string& url) {
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &parse_error);
  if (options == nullptr) {
    std::string detail = parse_error ? parse_error : "unparsable";
    PQfreemem(parse_error);
    while (!detail.empty() && detail.back() == '\n') detail.pop_back();
    return InvalidArgumentError(Redact("DATABASE_URL is not a valid PostgreSQL URL: " + detail));
  }
  bool has_timeout = false, has_sslmode = std::getenv("PGSSLMODE") != nullptr, remote = false;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    if (std::strcmp(o->keyword, "password") == 0) RegisterSecret(o->val);
    if (std::strcmp(o->keyword, "connect_timeout") == 0) has_timeout = true;
    if (std::strcmp(o->keyword, "sslmode") == 0) has_sslmode = true;
    if (std::strcmp(o->keyword, "host") == 0 || std::strcmp(o->keyword, "hostaddr") == 0) {
      for (const std::string& host : SplitString(o->val, ',')) {
        remote = remote || (!host.empty() && host.front() != '/' && !IsInternalAddress(host));
      }
    }
  }
  PQconninfoFree(options);
  std::string conninfo = url;
  const bool uri = url.starts_with("postgresql://") || url.starts_with("postgres://");
  auto add = [&](const std::string& parameter) {
    if (!uri) {
      conninfo += " " + parameter;  // keyword/value form: "host=… dbname=…"
    } else {
      conninfo += (conninfo.find('?') == std::string::npos ? "?" : "&") + parameter;
    }
  };
  if (!has_timeout) add("connect_timeout=5");
  // libpq's default, "prefer", lets a network attacker downgrade to plain text: over a
  // network the password and every row travel encrypted unless the URL says otherwise.
  if (remote && !has_sslmode) add("sslmode=require");
  return conninfo;
}

Result<std::unique_ptr<SqlConnection>> OpenPostgres(const std::string& url) {
  ASSIGN_OR_RETURN(std::string conninfo, PostgresConnInfo(url));
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.pop_back();
    for (char& c : message) {
      if (c == '\n') c = ' ';
    }
    bool auth = message.find("password authentication failed") != std::string::npos ||
                message.find("no password supplied") != std::string::npos;
    std::string text = "cannot connect to PostgreSQL: " + message;
    return auth ? PermissionDeniedError(
                      Redact(text + " (check the user and password in DATABASE_URL)"))
                : UnavailableError(Redact(text));
  }
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<SqlConnection>(new PostgresConnection(conn));
}

}  // namespace standby
