#pragma once

#include <string>

#include "state/forwarding_state_store.h"

namespace standby::sim {

class World;

// The database as a process reaches it (sim_world.h): while the world's database is down
// every call fails as PostgreSQL's retryable errors do (a connection lost, "the database
// system is starting up", a read-only standby during its provider's failover, too many
// connections), with their SQLSTATE. Never waits: it sits below the spool, whose lock must
// not be held across a scheduling point.
class FaultyDatabase : public ForwardingStateStore {
 public:
  FaultyDatabase(World* world, StateStore* db) : ForwardingStateStore(db), world_(world) {}

  Status CreateProtectedInstance(const ProtectedInstance& i) override;
  Result<std::optional<ProtectedInstance>> GetProtectedInstance(const std::string& id) override;
  Result<std::vector<ProtectedInstance>> ListProtectedInstances() override;
  Result<int64_t> UpdateProtectedInstance(const ProtectedInstance& i) override;
  Status DeleteProtectedInstance(const std::string& id) override;
  Status RecordProviderInstance(const ProviderInstanceRow& row) override;
  Result<std::vector<ProviderInstanceRow>> ListProviderInstances() override;
  Status MarkProviderInstanceDestroyed(const std::string& provider, const std::string& id,
                                       int64_t at_ms) override;
  Status MarkProviderInstanceDestroyPending(const std::string& provider, const std::string& id,
                                            const std::string& instance_id, int64_t at_ms,
                                            const std::string& error) override;
  Status RecordSnapshot(const SnapshotRow& row) override;
  Status RecordProvisioningAttempt(const ProvisioningAttempt& row) override;
  Status BlacklistMachine(const BlacklistEntry& entry) override;
  Status RecordFailoverEvent(const FailoverEvent& event) override;
  Result<std::vector<FailoverEvent>> ListFailoverEvents(const FailoverFilter& filter) override;
  Result<bool> ClaimFailover(const std::string& failover_id, const std::string& by, int64_t now_ms,
                             int64_t expires_at_ms) override;
  Result<bool> SetFailoverFence(const std::string& failover_id, const std::string& from,
                                const std::string& to, int64_t fenced_at,
                                const std::string& detail) override;
  Status SetFailoverLeftoversPending(const std::string& failover_id, bool pending) override;
  Result<std::vector<RequestRow>> ListPendingRequests() override;
  Result<bool> TakeRequest(const std::string& id, const std::string& by, int64_t at_ms) override;
  Status FinishRequest(const std::string& id, const std::string& failover_id,
                       const std::string& result) override;

 private:
  Status Check();
  World* world_;
};

// A scheduling point before every call of a process to its database (above the spool): so
// a kill -9 can land between any two writes, and calls of several tasks interleave.
class YieldingDatabase : public ForwardingStateStore {
 public:
  YieldingDatabase(World* world, std::string process, std::unique_ptr<StateStore> inner)
      : ForwardingStateStore(std::move(inner)), world_(world), process_(std::move(process)) {}

  Status CreateProtectedInstance(const ProtectedInstance& i) override;
  Result<std::optional<ProtectedInstance>> GetProtectedInstance(const std::string& id) override;
  Result<std::vector<ProtectedInstance>> ListProtectedInstances() override;
  Result<int64_t> UpdateProtectedInstance(const ProtectedInstance& i) override;
  Status DeleteProtectedInstance(const std::string& id) override;
  Status RecordProviderInstance(const ProviderInstanceRow& row) override;
  Status MarkProviderInstanceDestroyed(const std::string& provider, const std::string& id,
                                       int64_t at_ms) override;
  Status MarkProviderInstanceDestroyPending(const std::string& provider, const std::string& id,
                                            const std::string& instance_id, int64_t at_ms,
                                            const std::string& error) override;
  Status RecordSnapshot(const SnapshotRow& row) override;
  Status RecordFailoverEvent(const FailoverEvent& event) override;
  Result<std::vector<FailoverEvent>> ListFailoverEvents(const FailoverFilter& filter) override;
  Result<bool> ClaimFailover(const std::string& failover_id, const std::string& by, int64_t now_ms,
                             int64_t expires_at_ms) override;
  Status FinishRequest(const std::string& id, const std::string& failover_id,
                       const std::string& result) override;
  Result<bool> SetFailoverFence(const std::string& failover_id, const std::string& from,
                                const std::string& to, int64_t fenced_at,
                                const std::string& detail) override;
  Status SetFailoverLeftoversPending(const std::string& failover_id, bool pending) override;

 private:
  void Yield(bool write);
  World* world_;
  const std::string process_;
};

}  // namespace standby::sim
