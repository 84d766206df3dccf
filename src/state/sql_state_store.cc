#include "state/sql_state_store.h"

#include "base/strings.h"
#include "state/migrations.h"
#include "state/state_rows.h"

namespace standby {

Result<std::unique_ptr<SqlStateStore>> SqlStateStore::Open(Connector connect,
                                                           std::string description,
                                                           size_t pool_size) {
  ASSIGN_OR_RETURN(auto conn, connect());
  auto migrated = Migrate(conn.get());
  if (!migrated) return migrated.error().WithContext(description);
  std::unique_ptr<SqlStateStore> store(new SqlStateStore(std::move(connect), std::move(description),
                                                         std::max<size_t>(1, pool_size)));
  store->idle_.push_back(std::move(conn));
  store->open_ = 1;
  return store;
}

template <class T>
Result<T> SqlStateStore::With(const std::function<Result<T>(SqlConnection*)>& fn) {
  std::unique_ptr<SqlConnection> conn;
  {
    std::unique_lock<std::mutex> lock(mu_);
    available_.wait(lock, [&] { return !idle_.empty() || open_ < pool_size_; });
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++open_;
    }
  }
  if (!conn) {
    auto opened = connect_();
    if (!opened) {
      std::lock_guard<std::mutex> lock(mu_);
      --open_;
      available_.notify_one();
      return opened.error();
    }
    conn = std::move(*opened);
  }
  Result<T> result = fn(conn.get());
  std::lock_guard<std::mutex> lock(mu_);
  if (!result && result.error().code == ErrorCode::kUnavailable) {
    --open_;  // drop it: the next call reconnects
  } else {
    idle_.push_back(std::move(conn));
  }
  available_.notify_one();
  return result;
}

Status SqlStateStore::Upsert(const std::string& table, const std::vector<std::string>& columns,
                             const std::vector<std::string>& keys,
                             const std::vector<SqlValue>& values) {
  std::string sql = "INSERT INTO " + table + " (";
  std::string placeholders, updates;
  for (size_t i = 0; i < columns.size(); ++i) {
    sql += (i ? ", " : "") + columns[i];
    placeholders += (i ? ", $" : "$") + std::to_string(i + 1);
    if (std::find(keys.begin(), keys.end(), columns[i]) == keys.end()) {
      updates += (updates.empty() ? "" : ", ") + columns[i] + " = excluded." + columns[i];
    }
  }
  sql += ") VALUES (" + placeholders + ") ON CONFLICT (";
  for (size_t i = 0; i < keys.size(); ++i) sql += (i ? ", " : "") + keys[i];
  sql += ") DO UPDATE SET " + updates;
  return With<bool>([&](SqlConnection* c) -> Result<bool> {
           RETURN_IF_ERROR(c->Exec(sql, values));
           return true;
         })
      .map([](bool) {});
}

Result<std::vector<SqlRow>> SqlStateStore::Select(const std::string& sql,
                                                  const std::vector<SqlValue>& params) {
  return With<std::vector<SqlRow>>([&](SqlConnection* c) { return c->Query(sql, params); });
}

Status SqlStateStore::CreateProtectedInstance(const ProtectedInstance& instance) {
  ProtectedInstance first = instance;
  first.version = 1;
  std::vector<SqlValue> values = ProtectedInstanceValues(first);
  std::string sql = "INSERT INTO protected_instances (" + ColumnList(kProtectedInstanceColumns) +
                    ") VALUES (" + Placeholders(values.size()) + ")";
  auto done = With<bool>([&](SqlConnection* c) -> Result<bool> {
    RETURN_IF_ERROR(c->Exec(sql, values));
    return true;
  });
  if (!done) {
    if (done.error().code == ErrorCode::kConflict) {
      return ConflictError("protected instance " + instance.instance_id + " already exists");
    }
    return done.error();
  }
  return OkStatus();
}

Result<std::optional<ProtectedInstance>> SqlStateStore::GetProtectedInstance(
    const std::string& id) {
  ASSIGN_OR_RETURN(auto rows, Select("SELECT " + ColumnList(kProtectedInstanceColumns) +
                                         " FROM protected_instances WHERE instance_id = $1",
                                     {id}));
  if (rows.empty()) return std::optional<ProtectedInstance>();
  ASSIGN_OR_RETURN(ProtectedInstance p, ProtectedInstanceFromRow(rows[0]));
  return std::optional<ProtectedInstance>(std::move(p));
}

Result<std::vector<ProtectedInstance>> SqlStateStore::ListProtectedInstances() {
  ASSIGN_OR_RETURN(auto rows, Select("SELECT " + ColumnList(kProtectedInstanceColumns) +
                                         " FROM protected_instances ORDER BY instance_id",
                                     {}));
  return RowsTo<ProtectedInstance>(rows, ProtectedInstanceFromRow);
}

Result<int64_t> SqlStateStore::UpdateProtectedInstance(const ProtectedInstance& instance) {
  std::vector<SqlValue> all = ProtectedInstanceValues(instance);
  std::vector<SqlValue> values = {instance.instance_id};
  std::string sql = "UPDATE protected_instances SET version = version + 1";
  for (size_t i = 0; i < kProtectedInstanceColumns.size(); ++i) {
    const std::string& column = kProtectedInstanceColumns[i];
    if (column == "instance_id" || column == "version") continue;
    values.push_back(all[i]);
    sql += ", " + column + " = $" + std::to_string(values.size());
  }
  values.push_back(std::to_string(instance.version));
  sql += " WHERE instance_id = $1 AND version = $" + std::to_string(values.size());
  return With<int64_t>([&](SqlConnection* c) -> Result<int64_t> {
    RETURN_IF_ERROR(c->Exec(sql, values));
    if (c->ChangedRows() == 1) return instance.version + 1;
    ASSIGN_OR_RETURN(auto rows,
                     c->Query("SELECT version FROM protected_instances WHERE instance_id = $1",
                              {instance.instance_id}));
    if (rows.empty())
      return NotFoundError("protected instance " + instance.instance_id + " does not exist");
    return ConflictError("protected instance " + instance.instance_id +
                             " was updated by another writer (version " + rows[0][0].value_or("?") +
                             ", expected " + std::to_string(instance.version) +
                             "); re-read and retry",
                         /*retryable=*/true);
  });
}

Status SqlStateStore::RecordProviderInstance(const ProviderInstanceRow& row) {
  return Upsert("provider_instances", kProviderInstanceColumns,
                {"provider", "provider_instance_id"}, ProviderInstanceValues(row));
}

Result<std::vector<ProviderInstanceRow>> SqlStateStore::ListProviderInstances() {
  ASSIGN_OR_RETURN(auto rows,
                   Select("SELECT " + ColumnList(kProviderInstanceColumns) +
                              " FROM provider_instances ORDER BY created_at, provider_instance_id",
                          {}));
  return RowsTo<ProviderInstanceRow>(rows, ProviderInstanceFromRow);
}

Status SqlStateStore::RecordSnapshot(const SnapshotRow& row) {
  return Upsert("snapshots", kSnapshotColumns, {"snapshot_id"}, SnapshotValues(row));
}

Result<std::vector<SnapshotRow>> SqlStateStore::ListSnapshots(const std::string& instance_id) {
  ASSIGN_OR_RETURN(auto rows,
                   Select("SELECT " + ColumnList(kSnapshotColumns) +
                              " FROM snapshots WHERE instance_id = $1 ORDER BY created_at",
                          {instance_id}));
  return RowsTo<SnapshotRow>(rows, SnapshotFromRow);
}

Status SqlStateStore::RecordProvisioningAttempt(const ProvisioningAttempt& row) {
  return Upsert("provisioning_attempts", kProvisioningAttemptColumns, {"attempt_id"},
                ProvisioningAttemptValues(row));
}

Result<std::vector<ProvisioningAttempt>> SqlStateStore::ListProvisioningAttempts(
    const std::string& provider) {
  ASSIGN_OR_RETURN(
      auto rows,
      Select("SELECT " + ColumnList(kProvisioningAttemptColumns) +
                 " FROM provisioning_attempts WHERE $1 = '' OR provider = $1 ORDER BY launched_at",
             {provider}));
  return RowsTo<ProvisioningAttempt>(rows, ProvisioningAttemptFromRow);
}

Status SqlStateStore::BlacklistMachine(const BlacklistEntry& entry) {
  return Upsert("machine_blacklist", {"machine_id", "reason", "until"}, {"machine_id"},
                {entry.machine_id, entry.reason, std::to_string(entry.until)});
}

Result<std::vector<BlacklistEntry>> SqlStateStore::ActiveBlacklist(int64_t now_ms) {
  ASSIGN_OR_RETURN(auto rows, Select("SELECT machine_id, reason, until FROM machine_blacklist "
                                     "WHERE until > $1 ORDER BY machine_id",
                                     {std::to_string(now_ms)}));
  std::vector<BlacklistEntry> out;
  for (const auto& r : rows) {
    out.push_back({r[0].value_or(""), r[1].value_or(""),
                   static_cast<int64_t>(std::stoll(r[2].value_or("0")))});
  }
  return out;
}

Status SqlStateStore::RecordFailoverEvent(const FailoverEvent& event) {
  return Upsert("failover_events", kFailoverEventColumns, {"failover_id"},
                FailoverEventValues(event));
}

Result<std::vector<FailoverEvent>> SqlStateStore::ListFailoverEvents() {
  ASSIGN_OR_RETURN(auto rows, Select("SELECT " + ColumnList(kFailoverEventColumns) +
                                         " FROM failover_events ORDER BY started_at, failover_id",
                                     {}));
  return RowsTo<FailoverEvent>(rows, FailoverEventFromRow);
}

}  // namespace standby
