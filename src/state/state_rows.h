#pragma once

// How each table's rows map to structs, shared by the SQL backends and the spool: one list
// of (column, member) per table, so a column is named once. Values travel as text.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "base/result.h"
#include "state/sql_connection.h"
#include "state/state_store.h"

namespace standby {

// The columns of table `T` and how each maps to a member.
template <class T>
class TableMap {
 public:
  using Member = std::variant<std::string T::*, int T::*, int64_t T::*, double T::*, bool T::*>;
  struct Column {
    std::string name;  // as in SQL (quoted where it is a keyword)
    Member member;
  };
  TableMap(std::string table, std::vector<Column> columns);

  const std::string& table() const { return table_; }
  const std::vector<std::string>& Names() const { return names_; }
  const std::string& List() const { return list_; }  // "a, b, c"
  std::vector<SqlValue> Values(const T& row) const;
  // {"column": value, ...} with every column under its unquoted name, typed (text, number,
  // boolean): what the commands print, so no column is left out by hand.
  nlohmann::json ToJson(const T& row) const;
  // Every column must be present and parse. With `allow_short`, trailing columns may be
  // missing and keep their defaults (spooled rows written before a column was added).
  Result<T> FromRow(const SqlRow& row, bool allow_short = false) const;

 private:
  std::string table_;
  std::vector<Column> columns_;
  std::vector<std::string> names_;  // (computed once: every query names every column)
  std::string list_;
};

const TableMap<ProtectedInstance>& ProtectedInstanceTable();
const TableMap<ProviderInstanceRow>& ProviderInstanceTable();
const TableMap<SnapshotRow>& SnapshotTable();
const TableMap<ProvisioningAttempt>& ProvisioningAttemptTable();
const TableMap<FailoverEvent>& FailoverEventTable();
const TableMap<RequestRow>& RequestTable();
const TableMap<ControllerRow>& ControllerTable();

std::string Placeholders(size_t count);  // "$1, $2, ..."

template <class T>
Result<std::vector<T>> RowsTo(const std::vector<SqlRow>& rows, const TableMap<T>& map) {
  std::vector<T> out;
  for (const SqlRow& row : rows) {
    ASSIGN_OR_RETURN(T value, map.FromRow(row));
    out.push_back(std::move(value));
  }
  return out;
}

}  // namespace standby
