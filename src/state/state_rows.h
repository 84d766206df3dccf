#pragma once

// Column lists and row conversions shared by the SQL backends. Values travel as text.
#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "state/sql_connection.h"
#include "state/state_store.h"

namespace standby {

extern const std::vector<std::string> kProtectedInstanceColumns;
extern const std::vector<std::string> kProviderInstanceColumns;
extern const std::vector<std::string> kSnapshotColumns;
extern const std::vector<std::string> kProvisioningAttemptColumns;
extern const std::vector<std::string> kFailoverEventColumns;

std::string ColumnList(const std::vector<std::string>& columns);
std::string Placeholders(size_t count);  // "$1, $2, ..."

std::vector<SqlValue> ProtectedInstanceValues(const ProtectedInstance& p);
Result<ProtectedInstance> ProtectedInstanceFromRow(const SqlRow& row);
std::vector<SqlValue> ProviderInstanceValues(const ProviderInstanceRow& p);
Result<ProviderInstanceRow> ProviderInstanceFromRow(const SqlRow& row);
std::vector<SqlValue> SnapshotValues(const SnapshotRow& s);
Result<SnapshotRow> SnapshotFromRow(const SqlRow& row);
std::vector<SqlValue> ProvisioningAttemptValues(const ProvisioningAttempt& a);
Result<ProvisioningAttempt> ProvisioningAttemptFromRow(const SqlRow& row);
std::vector<SqlValue> FailoverEventValues(const FailoverEvent& e);
Result<FailoverEvent> FailoverEventFromRow(const SqlRow& row);

template <class T>
Result<std::vector<T>> RowsTo(const std::vector<SqlRow>& rows,
                              const std::function<Result<T>(const SqlRow&)>& convert) {
  std::vector<T> out;
  for (const SqlRow& row : rows) {
    ASSIGN_OR_RETURN(T value, convert(row));
    out.push_back(std::move(value));
  }
  return out;
}

}  // namespace standby
