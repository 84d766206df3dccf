#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "env/file_system.h"
#include "state/sql_connection.h"
#include "state/state_store.h"

namespace standby {

// Keeps the controller writing while its database is away. Record* and BlacklistMachine
// calls that fail with kUnavailable are appended (fsynced) to a local JSON-lines spool file
// and reported as success; the next write replays the spool in order before its own. The
// records are upserts keyed by id, so a replay never duplicates rows. Reads and the
// protected-instance calls, which need the database's answer, pass through unchanged.
// Thread-safe. `inner` is owned.
class SpoolingStateStore : public StateStore {
 public:
  SpoolingStateStore(std::unique_ptr<StateStore> inner, std::string spool_path,
                     FileSystem* fs = FileSystem::Real())
      : inner_(std::move(inner)), spool_path_(std::move(spool_path)), fs_(fs) {}

  // Replays what is spooled; OK when the spool is empty afterwards.
  Status Flush();
  // Records waiting in the spool.
  Result<size_t> Pending();

  std::string Describe() const override { return inner_->Describe(); }
  Status CreateProtectedInstance(const ProtectedInstance& i) override {
    return inner_->CreateProtectedInstance(i);
  }
  Result<std::optional<ProtectedInstance>> GetProtectedInstance(const std::string& id) override {
    return inner_->GetProtectedInstance(id);
  }
  Result<std::vector<ProtectedInstance>> ListProtectedInstances() override {
    return inner_->ListProtectedInstances();
  }
  Result<int64_t> UpdateProtectedInstance(const ProtectedInstance& i) override {
    return inner_->UpdateProtectedInstance(i);
  }
  Status RecordProviderInstance(const ProviderInstanceRow& row) override;
  Result<std::vector<ProviderInstanceRow>> ListProviderInstances() override {
    return inner_->ListProviderInstances();
  }
  Status RecordSnapshot(const SnapshotRow& row) override;
  Result<std::vector<SnapshotRow>> ListSnapshots(const std::string& id) override {
    return inner_->ListSnapshots(id);
  }
  Status RecordProvisioningAttempt(const ProvisioningAttempt& row) override;
  Result<std::vector<ProvisioningAttempt>> ListProvisioningAttempts(const std::string& p) override {
    return inner_->ListProvisioningAttempts(p);
  }
  Status BlacklistMachine(const BlacklistEntry& entry) override;
  Result<std::vector<BlacklistEntry>> ActiveBlacklist(int64_t now_ms) override {
    return inner_->ActiveBlacklist(now_ms);
  }
  Status RecordFailoverEvent(const FailoverEvent& event) override;
  Result<std::vector<FailoverEvent>> ListFailoverEvents() override {
    return inner_->ListFailoverEvents();
  }

 private:
  // Replays the spool, then applies (kind, values) or spools it behind what is pending.
  Status Write(const std::string& kind, std::vector<SqlValue> values);
  Status Apply(const std::string& kind, const std::vector<SqlValue>& values);
  Status FlushLocked();

  std::unique_ptr<StateStore> inner_;
  std::string spool_path_;
  FileSystem* fs_;
  std::mutex mu_;
};

}  // namespace standby
