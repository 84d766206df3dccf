#pragma once

#include <memory>

#include "state/state_store.h"

namespace standby {

// A StateStore that passes every call to `inner`: the base of decorators that change a
// few calls (the spool; tests and the simulation that make one call fail or crash).
// `inner` is owned, or borrowed (the simulation's processes share one database).
class ForwardingStateStore : public StateStore {
 public:
  explicit ForwardingStateStore(std::unique_ptr<StateStore> inner)
      : owned_(std::move(inner)), inner_(owned_.get()) {}
  explicit ForwardingStateStore(StateStore* borrowed) : inner_(borrowed) {}

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
  Status DeleteProtectedInstance(const std::string& id) override {
    return inner_->DeleteProtectedInstance(id);
  }
  Status RecordProviderInstance(const ProviderInstanceRow& row) override {
    return inner_->RecordProviderInstance(row);
  }
  Result<std::vector<ProviderInstanceRow>> ListProviderInstances() override {
    return inner_->ListProviderInstances();
  }
  Status MarkProviderInstanceDestroyed(const std::string& provider, const std::string& id,
                                       int64_t at_ms) override {
    return inner_->MarkProviderInstanceDestroyed(provider, id, at_ms);
  }
  Status MarkProviderInstanceDestroyPending(const std::string& provider, const std::string& id,
                                            const std::string& instance_id, int64_t at_ms,
                                            const std::string& error) override {
    return inner_->MarkProviderInstanceDestroyPending(provider, id, instance_id, at_ms, error);
  }
  Status RecordSnapshot(const SnapshotRow& row) override { return inner_->RecordSnapshot(row); }
  Result<std::vector<SnapshotRow>> ListSnapshots(const std::string& id) override {
    return inner_->ListSnapshots(id);
  }
  Status RecordProvisioningAttempt(const ProvisioningAttempt& row) override {
    return inner_->RecordProvisioningAttempt(row);
  }
  Result<std::vector<ProvisioningAttempt>> ListProvisioningAttempts(const std::string& p) override {
    return inner_->ListProvisioningAttempts(p);
  }
  Status BlacklistMachine(const BlacklistEntry& entry) override {
    return inner_->BlacklistMachine(entry);
  }
  Result<std::vector<BlacklistEntry>> ActiveBlacklist(int64_t now_ms) override {
    return inner_->ActiveBlacklist(now_ms);
  }
  Status RecordFailoverEvent(const FailoverEvent& event) override {
    return inner_->RecordFailoverEvent(event);
  }
  Result<std::vector<FailoverEvent>> ListFailoverEvents(
      const FailoverFilter& filter = {}) override {
    return inner_->ListFailoverEvents(filter);
  }
  Result<bool> ClaimFailover(const std::string& failover_id, const std::string& by, int64_t now_ms,
                             int64_t expires_at_ms) override {
    return inner_->ClaimFailover(failover_id, by, now_ms, expires_at_ms);
  }
  Result<bool> SetFailoverFence(const std::string& failover_id, const std::string& from,
                                const std::string& to, int64_t fenced_at,
                                const std::string& detail) override {
    return inner_->SetFailoverFence(failover_id, from, to, fenced_at, detail);
  }
  Status SetFailoverLeftoversPending(const std::string& failover_id, bool pending) override {
    return inner_->SetFailoverLeftoversPending(failover_id, pending);
  }
  Status CreateRequest(const RequestRow& request) override {
    return inner_->CreateRequest(request);
  }
  Result<std::vector<RequestRow>> ListPendingRequests() override {
    return inner_->ListPendingRequests();
  }
  Result<std::optional<RequestRow>> GetRequest(const std::string& id) override {
    return inner_->GetRequest(id);
  }
  Result<bool> TakeRequest(const std::string& id, const std::string& by, int64_t at) override {
    return inner_->TakeRequest(id, by, at);
  }
  Status FinishRequest(const std::string& id, const std::string& failover_id,
                       const std::string& result) override {
    return inner_->FinishRequest(id, failover_id, result);
  }
  Status RecordControllerHeartbeat(const ControllerRow& row) override {
    return inner_->RecordControllerHeartbeat(row);
  }
  Result<std::vector<ControllerRow>> ListControllers() override {
    return inner_->ListControllers();
  }
  Result<int64_t> AppendEvent(const EventRow& event) override { return inner_->AppendEvent(event); }
  Result<std::vector<EventRow>> ListEventsAfter(int64_t after_id, size_t limit) override {
    return inner_->ListEventsAfter(after_id, limit);
  }
  Result<int64_t> LastEventId() override { return inner_->LastEventId(); }
  Status FlushPending() override { return inner_->FlushPending(); }
  Result<int64_t> PruneEvents(int64_t before_ms) override { return inner_->PruneEvents(before_ms); }

 protected:
  StateStore* inner() { return inner_; }

 private:
  std::unique_ptr<StateStore> owned_;
  StateStore* inner_;
};

}  // namespace standby
