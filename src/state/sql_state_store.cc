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
                             const std::vector<SqlValue>& values,
                             const std::vector<std::string>& insert_only) {
  // Built once per table and shape (every write of a table has the same statement).
  static std::mutex built_mu;
  static std::map<std::string, std::string> built;
  std::string shape = table;
  for (const std::string& k : keys) shape += "|" + k;
  for (const std::string& k : insert_only) shape += "!" + k;
  std::string sql;
  {
    std::lock_guard<std::mutex> lock(built_mu);
    if (auto it = built.find(shape); it != built.end()) sql = it->second;
  }
  if (sql.empty()) {
    sql = "INSERT INTO " + table + " (";
    std::string placeholders, updates;
    for (size_t i = 0; i < columns.size(); ++i) {
      sql += (i ? ", " : "") + columns[i];
      placeholders += (i ? ", $" : "$") + std::to_string(i + 1);
      if (std::find(keys.begin(), keys.end(), columns[i]) == keys.end() &&
          std::find(insert_only.begin(), insert_only.end(), columns[i]) == insert_only.end()) {
        updates += (updates.empty() ? "" : ", ") + columns[i] + " = excluded." + columns[i];
      }
    }
    sql += ") VALUES (" + placeholders + ") ON CONFLICT (";
    for (size_t i = 0; i < keys.size(); ++i) sql += (i ? ", " : "") + keys[i];
    sql += ") DO UPDATE SET " + updates;
    std::lock_guard<std::mutex> lock(built_mu);
    built[shape] = sql;
  }
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
  const auto& map = ProtectedInstanceTable();
  ProtectedInstance first = instance;
  first.version = 1;
  std::vector<SqlValue> values = map.Values(first);
  std::string sql = "INSERT INTO protected_instances (" + map.List() + ") VALUES (" +
                    Placeholders(values.size()) + ")";
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
  const auto& map = ProtectedInstanceTable();
  ASSIGN_OR_RETURN(
      auto rows,
      Select("SELECT " + map.List() + " FROM protected_instances WHERE instance_id = $1", {id}));
  if (rows.empty()) return std::optional<ProtectedInstance>();
  ASSIGN_OR_RETURN(ProtectedInstance p, map.FromRow(rows[0]));
  return std::optional<ProtectedInstance>(std::move(p));
}

Result<std::vector<ProtectedInstance>> SqlStateStore::ListProtectedInstances() {
  const auto& map = ProtectedInstanceTable();
  ASSIGN_OR_RETURN(
      auto rows,
      Select("SELECT " + map.List() + " FROM protected_instances ORDER BY instance_id", {}));
  return RowsTo(rows, map);
}

Result<int64_t> SqlStateStore::UpdateProtectedInstance(const ProtectedInstance& instance) {
  const auto& map = ProtectedInstanceTable();
  std::vector<SqlValue> all = map.Values(instance);
  std::vector<std::string> columns = map.Names();
  std::vector<SqlValue> values = {instance.instance_id};
  std::string sql = "UPDATE protected_instances SET version = version + 1";
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == "instance_id" || columns[i] == "version") continue;
    values.push_back(all[i]);
    sql += ", " + columns[i] + " = $" + std::to_string(values.size());
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

Status SqlStateStore::DeleteProtectedInstance(const std::string& id) {
  return With<bool>([&](SqlConnection* c) -> Result<bool> {
           RETURN_IF_ERROR(c->Exec("DELETE FROM protected_instances WHERE instance_id = $1", {id}));
           if (c->ChangedRows() != 1) {
             return NotFoundError("no protected instance named " + id);
           }
           return true;
         })
      .map([](bool) {});
}

Status SqlStateStore::RecordProviderInstance(const ProviderInstanceRow& row) {
  const auto& map = ProviderInstanceTable();
  return Upsert(map.table(), map.Names(), {"provider", "provider_instance_id"}, map.Values(row));
}

Result<std::vector<ProviderInstanceRow>> SqlStateStore::ListProviderInstances() {
  const auto& map = ProviderInstanceTable();
  ASSIGN_OR_RETURN(auto rows, Select("SELECT " + map.List() +
                                         " FROM provider_instances ORDER BY created_at, "
                                         "provider_instance_id",
                                     {}));
  return RowsTo(rows, map);
}

Status SqlStateStore::MarkProviderInstanceDestroyed(const std::string& provider,
                                                    const std::string& id, int64_t at_ms) {
  return With<bool>([&](SqlConnection* c) -> Result<bool> {
           RETURN_IF_ERROR(
               c->Exec("UPDATE provider_instances SET destroyed_at = $3 WHERE "
                       "provider = $1 AND provider_instance_id = $2 AND "
                       "destroyed_at = 0",
                       {provider, id, std::to_string(at_ms)}));
           return true;
         })
      .map([](bool) {});
}

Status SqlStateStore::MarkProviderInstanceDestroyPending(const std::string& provider,
                                                         const std::string& id,
                                                         const std::string& instance_id,
                                                         int64_t at_ms, const std::string& error) {
  ProviderInstanceRow row;
  row.provider = provider;
  row.provider_instance_id = id;
  row.purpose = "destroy";
  row.created_at = at_ms;
  row.instance_id = instance_id;
  row.destroy_pending_at = at_ms;
  row.destroy_error = error;
  const auto& map = ProviderInstanceTable();
  return With<bool>([&](SqlConnection* c) -> Result<bool> {
           // A row of its own when it had none (owned from now on, so it is retried).
           RETURN_IF_ERROR(c->Exec("INSERT INTO provider_instances (" + map.List() + ") VALUES (" +
                                       Placeholders(map.Names().size()) +
                                       ") ON CONFLICT (provider, provider_instance_id) DO NOTHING",
                                   map.Values(row)));
           RETURN_IF_ERROR(c->Exec(
               "UPDATE provider_instances SET destroy_error = $4, destroy_pending_at = CASE WHEN "
               "destroy_pending_at = 0 THEN $3 ELSE destroy_pending_at END WHERE provider = $1 "
               "AND provider_instance_id = $2 AND destroyed_at = 0",
               {provider, id, std::to_string(at_ms), error}));
           return true;
         })
      .map([](bool) {});
}

Status SqlStateStore::RecordSnapshot(const SnapshotRow& row) {
  const auto& map = SnapshotTable();
  return Upsert(map.table(), map.Names(), {"snapshot_id"}, map.Values(row));
}

Result<std::vector<SnapshotRow>> SqlStateStore::ListSnapshots(const std::string& instance_id) {
  const auto& map = SnapshotTable();
  ASSIGN_OR_RETURN(
      auto rows,
      Select("SELECT " + map.List() + " FROM snapshots WHERE instance_id = $1 ORDER BY created_at",
             {instance_id}));
  return RowsTo(rows, map);
}

Status SqlStateStore::RecordProvisioningAttempt(const ProvisioningAttempt& row) {
  const auto& map = ProvisioningAttemptTable();
  return Upsert(map.table(), map.Names(), {"attempt_id"}, map.Values(row));
}

Result<std::vector<ProvisioningAttempt>> SqlStateStore::ListProvisioningAttempts(
    const std::string& provider) {
  const auto& map = ProvisioningAttemptTable();
  ASSIGN_OR_RETURN(
      auto rows,
      Select("SELECT " + map.List() +
                 " FROM provisioning_attempts WHERE $1 = '' OR provider = $1 ORDER BY launched_at",
             {provider}));
  return RowsTo(rows, map);
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
  const auto& map = FailoverEventTable();
  return Upsert(map.table(), map.Names(), {"failover_id"}, map.Values(event),
                {"claimed_by", "claim_expires_at"});
}

Result<bool> SqlStateStore::SetFailoverFence(const std::string& failover_id,
                                             const std::string& from, const std::string& to,
                                             int64_t fenced_at, const std::string& detail) {
  return With<bool>([&](SqlConnection* c) -> Result<bool> {
    RETURN_IF_ERROR(
        c->Exec("UPDATE failover_events SET fence = $3, fenced_at = $4, fence_detail = $5 WHERE "
                "failover_id = $1 AND fence = $2",
                {failover_id, from, to, std::to_string(fenced_at), detail}));
    return c->ChangedRows() > 0;
  });
}

Status SqlStateStore::SetFailoverLeftoversPending(const std::string& failover_id, bool pending) {
  return With<bool>([&](SqlConnection* c) -> Result<bool> {
           RETURN_IF_ERROR(
               c->Exec("UPDATE failover_events SET leftovers_pending = $2 WHERE failover_id = $1",
                       {failover_id, std::string(pending ? "1" : "0")}));
           return true;
         })
      .map([](bool) {});
}

Result<bool> SqlStateStore::ClaimFailover(const std::string& failover_id, const std::string& by,
                                          int64_t now_ms, int64_t expires_at_ms) {
  return With<bool>([&](SqlConnection* c) -> Result<bool> {
    RETURN_IF_ERROR(c->Exec(
        "UPDATE failover_events SET claimed_by = $2, claim_expires_at = $4 WHERE failover_id = $1 "
        "AND completed_at = 0 AND (claimed_by = '' OR claimed_by = $2 OR claim_expires_at < $3)",
        {failover_id, by, std::to_string(now_ms), std::to_string(expires_at_ms)}));
    ASSIGN_OR_RETURN(auto rows, c->Query("SELECT claimed_by, completed_at FROM failover_events "
                                         "WHERE failover_id = $1",
                                         {failover_id}));
    return !rows.empty() && rows[0][0].value_or("") == by && rows[0][1].value_or("") == "0";
  });
}

Result<std::vector<FailoverEvent>> SqlStateStore::ListFailoverEvents(const FailoverFilter& filter) {
  const auto& map = FailoverEventTable();
  std::string where = " WHERE 1 = 1";
  std::vector<SqlValue> params;
  if (!filter.instance_id.empty()) {
    params.push_back(filter.instance_id);
    where += " AND instance_id = $" + std::to_string(params.size());
  }
  if (!filter.failover_id.empty()) {
    params.push_back(filter.failover_id);
    where += " AND failover_id = $" + std::to_string(params.size());
  }
  if (filter.unfinished_only) where += " AND completed_at = 0";
  if (filter.cleanup_pending_only) {
    where += " AND (fence IN ('pending', 'waiting') OR leftovers_pending = 1)";
  }
  ASSIGN_OR_RETURN(auto rows, Select("SELECT " + map.List() + " FROM failover_events" + where +
                                         " ORDER BY started_at, failover_id",
                                     params));
  return RowsTo(rows, map);
}

Status SqlStateStore::CreateRequest(const RequestRow& request) {
  const auto& map = RequestTable();
  return Upsert(map.table(), map.Names(), {"request_id"}, map.Values(request));
}

Result<std::vector<RequestRow>> SqlStateStore::ListPendingRequests() {
  const auto& map = RequestTable();
  ASSIGN_OR_RETURN(auto rows, Select("SELECT " + map.List() +
                                         " FROM requests WHERE taken_at = 0 ORDER BY created_at, "
                                         "request_id",
                                     {}));
  return RowsTo(rows, map);
}

Result<std::optional<RequestRow>> SqlStateStore::GetRequest(const std::string& id) {
  const auto& map = RequestTable();
  ASSIGN_OR_RETURN(auto rows,
                   Select("SELECT " + map.List() + " FROM requests WHERE request_id = $1", {id}));
  if (rows.empty()) return std::optional<RequestRow>();
  ASSIGN_OR_RETURN(RequestRow r, map.FromRow(rows[0]));
  return std::optional<RequestRow>(std::move(r));
}

Result<bool> SqlStateStore::TakeRequest(const std::string& id, const std::string& by,
                                        int64_t at_ms) {
  return With<bool>([&](SqlConnection* c) -> Result<bool> {
    RETURN_IF_ERROR(
        c->Exec("UPDATE requests SET taken_at = $2, taken_by = $3 WHERE "
                "request_id = $1 AND taken_at = 0",
                {id, std::to_string(at_ms), by}));
    return c->ChangedRows() == 1;
  });
}

Status SqlStateStore::FinishRequest(const std::string& id, const std::string& failover_id,
                                    const std::string& result) {
  return With<bool>([&](SqlConnection* c) -> Result<bool> {
           RETURN_IF_ERROR(
               c->Exec("UPDATE requests SET failover_id = $2, result = $3 WHERE request_id = $1",
                       {id, failover_id, result}));
           return true;
         })
      .map([](bool) {});
}

Status SqlStateStore::RecordControllerHeartbeat(const ControllerRow& row) {
  const auto& map = ControllerTable();
  return Upsert(map.table(), map.Names(), {"controller"}, map.Values(row));
}

Result<std::vector<ControllerRow>> SqlStateStore::ListControllers() {
  const auto& map = ControllerTable();
  ASSIGN_OR_RETURN(auto rows,
                   Select("SELECT " + map.List() + " FROM controllers ORDER BY controller", {}));
  return RowsTo(rows, map);
}

}  // namespace standby
