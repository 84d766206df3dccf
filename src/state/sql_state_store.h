#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "state/sql_connection.h"
#include "state/state_store.h"

namespace standby {

// StateStore over SQL (SQLite or PostgreSQL): the same statements for both dialects, with
// parameters bound as text. Holds a small pool of connections opened on demand (one for
// SQLite, whose writers serialise anyway; `pool_size` for PostgreSQL). Thread-safe.
class SqlStateStore : public StateStore {
 public:
  using Connector = std::function<Result<std::unique_ptr<SqlConnection>>()>;

  // Opens one connection, runs the migrations, and keeps the connection in the pool.
  static Result<std::unique_ptr<SqlStateStore>> Open(Connector connect, std::string description,
                                                     size_t pool_size);

  std::string Describe() const override { return description_; }
  Status CreateProtectedInstance(const ProtectedInstance& instance) override;
  Result<std::optional<ProtectedInstance>> GetProtectedInstance(const std::string& id) override;
  Result<std::vector<ProtectedInstance>> ListProtectedInstances() override;
  Result<int64_t> UpdateProtectedInstance(const ProtectedInstance& instance) override;
  Status DeleteProtectedInstance(const std::string& id) override;
  Status RecordProviderInstance(const ProviderInstanceRow& row) override;
  Result<std::vector<ProviderInstanceRow>> ListProviderInstances() override;
  Status MarkProviderInstanceDestroyPending(const std::string& provider, const std::string& id,
                                            const std::string& instance_id, int64_t at_ms,
                                            const std::string& error) override;
  Result<bool> ClaimFailover(const std::string& failover_id, const std::string& by, int64_t now_ms,
                             int64_t expires_at_ms) override;
  Result<bool> SetFailoverFence(const std::string& failover_id, const std::string& from,
                                const std::string& to, int64_t fenced_at,
                                const std::string& detail) override;
  Status SetFailoverLeftoversPending(const std::string& failover_id, bool pending) override;
  Status MarkProviderInstanceDestroyed(const std::string& provider, const std::string& id,
                                       int64_t at_ms) override;
  Status RecordSnapshot(const SnapshotRow& row) override;
  Result<std::vector<SnapshotRow>> ListSnapshots(const std::string& instance_id) override;
  Status RecordProvisioningAttempt(const ProvisioningAttempt& row) override;
  Result<std::vector<ProvisioningAttempt>> ListProvisioningAttempts(
      const std::string& provider) override;
  Status BlacklistMachine(const BlacklistEntry& entry) override;
  Result<std::vector<BlacklistEntry>> ActiveBlacklist(int64_t now_ms) override;
  Status RecordFailoverEvent(const FailoverEvent& event) override;
  Result<std::vector<FailoverEvent>> ListFailoverEvents(const FailoverFilter& filter = {}) override;
  Status CreateRequest(const RequestRow& request) override;
  Result<std::vector<RequestRow>> ListPendingRequests() override;
  Result<std::optional<RequestRow>> GetRequest(const std::string& id) override;
  Result<bool> TakeRequest(const std::string& id, const std::string& by, int64_t at_ms) override;
  Status FinishRequest(const std::string& id, const std::string& failover_id,
                       const std::string& result) override;
  Status RecordControllerHeartbeat(const ControllerRow& row) override;
  Result<std::vector<ControllerRow>> ListControllers() override;
  Result<int64_t> AppendEvent(const EventRow& event) override;
  Result<std::vector<EventRow>> ListEventsAfter(int64_t after_id, size_t limit) override;
  Result<int64_t> LastEventId() override;
  Result<int64_t> PruneEvents(int64_t before_ms) override;

 private:
  SqlStateStore(Connector connect, std::string description, size_t pool_size)
      : connect_(std::move(connect)), description_(std::move(description)), pool_size_(pool_size) {}
  // Runs `fn` on a pooled connection; a connection that reported kUnavailable is dropped.
  template <class T>
  Result<T> With(const std::function<Result<T>(SqlConnection*)>& fn);
  // INSERT ... ON CONFLICT (keys) DO UPDATE every column but the keys and `insert_only`.
  Status Upsert(const std::string& table, const std::vector<std::string>& columns,
                const std::vector<std::string>& keys, const std::vector<SqlValue>& values,
                const std::vector<std::string>& insert_only = {});
  Result<std::vector<SqlRow>> Select(const std::string& sql, const std::vector<SqlValue>& params);

  Connector connect_;
  std::string description_;
  size_t pool_size_;
  std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<SqlConnection>> idle_;
  size_t open_ = 0;
};

}  // namespace standby
