#include "tests/sim/sim_state.h"

#include "state/sql_errors.h"
#include "tests/sim/sim_world.h"

namespace standby::sim {

Status FaultyDatabase::Check() {
  if (!world_->DatabaseDown(world_->Now())) return OkStatus();
  // What PostgreSQL answers while it is away, classified by the production code (a class it
  // got wrong would surface as a permanent error mid-failover).
  static const char* kErrors[][2] = {
      {"08006", "PostgreSQL: server closed the connection unexpectedly"},
      {"57P03", "PostgreSQL: the database system is starting up"},
      {"25006", "PostgreSQL: cannot execute UPDATE in a read-only transaction"},
      {"53300", "PostgreSQL: sorry, too many clients already"},
      {"40001", "PostgreSQL: could not serialize access"}};
  const auto& e = kErrors[world_->rng()() % 5];
  return SqlStateError(e[0], e[1], /*connection_lost=*/false);
}

#define STANDBY_SIM_FAULTY(call) \
  RETURN_IF_ERROR(Check());      \
  return call

Status FaultyDatabase::CreateProtectedInstance(const ProtectedInstance& i) {
  STANDBY_SIM_FAULTY(inner()->CreateProtectedInstance(i));
}
Result<std::optional<ProtectedInstance>> FaultyDatabase::GetProtectedInstance(
    const std::string& id) {
  STANDBY_SIM_FAULTY(inner()->GetProtectedInstance(id));
}
Result<std::vector<ProtectedInstance>> FaultyDatabase::ListProtectedInstances() {
  STANDBY_SIM_FAULTY(inner()->ListProtectedInstances());
}
Result<int64_t> FaultyDatabase::UpdateProtectedInstance(const ProtectedInstance& i) {
  STANDBY_SIM_FAULTY(inner()->UpdateProtectedInstance(i));
}
Status FaultyDatabase::DeleteProtectedInstance(const std::string& id) {
  STANDBY_SIM_FAULTY(inner()->DeleteProtectedInstance(id));
}
Status FaultyDatabase::RecordProviderInstance(const ProviderInstanceRow& row) {
  STANDBY_SIM_FAULTY(inner()->RecordProviderInstance(row));
}
Result<std::vector<ProviderInstanceRow>> FaultyDatabase::ListProviderInstances() {
  STANDBY_SIM_FAULTY(inner()->ListProviderInstances());
}
Status FaultyDatabase::MarkProviderInstanceDestroyed(const std::string& provider,
                                                     const std::string& id, int64_t at_ms) {
  STANDBY_SIM_FAULTY(inner()->MarkProviderInstanceDestroyed(provider, id, at_ms));
}
Status FaultyDatabase::MarkProviderInstanceDestroyPending(const std::string& provider,
                                                          const std::string& id,
                                                          const std::string& instance_id,
                                                          int64_t at_ms, const std::string& error) {
  STANDBY_SIM_FAULTY(
      inner()->MarkProviderInstanceDestroyPending(provider, id, instance_id, at_ms, error));
}
Status FaultyDatabase::RecordSnapshot(const SnapshotRow& row) {
  STANDBY_SIM_FAULTY(inner()->RecordSnapshot(row));
}
Status FaultyDatabase::RecordProvisioningAttempt(const ProvisioningAttempt& row) {
  STANDBY_SIM_FAULTY(inner()->RecordProvisioningAttempt(row));
}
Status FaultyDatabase::BlacklistMachine(const BlacklistEntry& entry) {
  STANDBY_SIM_FAULTY(inner()->BlacklistMachine(entry));
}
Status FaultyDatabase::RecordFailoverEvent(const FailoverEvent& event) {
  STANDBY_SIM_FAULTY(inner()->RecordFailoverEvent(event));
}
Result<std::vector<FailoverEvent>> FaultyDatabase::ListFailoverEvents(
    const FailoverFilter& filter) {
  STANDBY_SIM_FAULTY(inner()->ListFailoverEvents(filter));
}
Result<bool> FaultyDatabase::ClaimFailover(const std::string& failover_id, const std::string& by,
                                           int64_t now_ms, int64_t expires_at_ms) {
  STANDBY_SIM_FAULTY(inner()->ClaimFailover(failover_id, by, now_ms, expires_at_ms));
}
Result<bool> FaultyDatabase::SetFailoverFence(const std::string& failover_id,
                                              const std::string& from, const std::string& to,
                                              int64_t fenced_at, const std::string& detail) {
  STANDBY_SIM_FAULTY(inner()->SetFailoverFence(failover_id, from, to, fenced_at, detail));
}
Status FaultyDatabase::SetFailoverLeftoversPending(const std::string& failover_id, bool pending) {
  STANDBY_SIM_FAULTY(inner()->SetFailoverLeftoversPending(failover_id, pending));
}
Result<std::vector<RequestRow>> FaultyDatabase::ListPendingRequests() {
  STANDBY_SIM_FAULTY(inner()->ListPendingRequests());
}
Result<bool> FaultyDatabase::TakeRequest(const std::string& id, const std::string& by,
                                         int64_t at_ms) {
  STANDBY_SIM_FAULTY(inner()->TakeRequest(id, by, at_ms));
}
Status FaultyDatabase::FinishRequest(const std::string& id, const std::string& failover_id,
                                     const std::string& result) {
  STANDBY_SIM_FAULTY(inner()->FinishRequest(id, failover_id, result));
}

void YieldingDatabase::Yield(bool write) {
  // Writes only: what a kill between two of them leaves is what matters; reads change
  // nothing another task could see.
  if (!write) return;
  ++world_->parked_in_write[process_];
  world_->sched().SleepFor(std::chrono::milliseconds(1));
  --world_->parked_in_write[process_];
}

#define STANDBY_SIM_YIELD(write, call) \
  Yield(write);                        \
  return call

Status YieldingDatabase::CreateProtectedInstance(const ProtectedInstance& i) {
  STANDBY_SIM_YIELD(true, inner()->CreateProtectedInstance(i));
}
Result<std::optional<ProtectedInstance>> YieldingDatabase::GetProtectedInstance(
    const std::string& id) {
  STANDBY_SIM_YIELD(false, inner()->GetProtectedInstance(id));
}
Result<std::vector<ProtectedInstance>> YieldingDatabase::ListProtectedInstances() {
  STANDBY_SIM_YIELD(false, inner()->ListProtectedInstances());
}
Result<int64_t> YieldingDatabase::UpdateProtectedInstance(const ProtectedInstance& i) {
  STANDBY_SIM_YIELD(true, inner()->UpdateProtectedInstance(i));
}
Status YieldingDatabase::DeleteProtectedInstance(const std::string& id) {
  STANDBY_SIM_YIELD(true, inner()->DeleteProtectedInstance(id));
}
Status YieldingDatabase::RecordProviderInstance(const ProviderInstanceRow& row) {
  STANDBY_SIM_YIELD(true, inner()->RecordProviderInstance(row));
}
Status YieldingDatabase::MarkProviderInstanceDestroyed(const std::string& provider,
                                                       const std::string& id, int64_t at_ms) {
  STANDBY_SIM_YIELD(true, inner()->MarkProviderInstanceDestroyed(provider, id, at_ms));
}
Status YieldingDatabase::MarkProviderInstanceDestroyPending(const std::string& provider,
                                                            const std::string& id,
                                                            const std::string& instance_id,
                                                            int64_t at_ms,
                                                            const std::string& error) {
  STANDBY_SIM_YIELD(
      true, inner()->MarkProviderInstanceDestroyPending(provider, id, instance_id, at_ms, error));
}
Status YieldingDatabase::RecordSnapshot(const SnapshotRow& row) {
  STANDBY_SIM_YIELD(true, inner()->RecordSnapshot(row));
}
Status YieldingDatabase::RecordFailoverEvent(const FailoverEvent& event) {
  world_->phase_written[process_] = event.phase;
  STANDBY_SIM_YIELD(true, inner()->RecordFailoverEvent(event));
}
Result<std::vector<FailoverEvent>> YieldingDatabase::ListFailoverEvents(
    const FailoverFilter& filter) {
  STANDBY_SIM_YIELD(false, inner()->ListFailoverEvents(filter));
}
Result<bool> YieldingDatabase::ClaimFailover(const std::string& failover_id, const std::string& by,
                                             int64_t now_ms, int64_t expires_at_ms) {
  STANDBY_SIM_YIELD(true, inner()->ClaimFailover(failover_id, by, now_ms, expires_at_ms));
}
Status YieldingDatabase::FinishRequest(const std::string& id, const std::string& failover_id,
                                       const std::string& result) {
  STANDBY_SIM_YIELD(true, inner()->FinishRequest(id, failover_id, result));
}

Result<bool> YieldingDatabase::SetFailoverFence(const std::string& failover_id,
                                                const std::string& from, const std::string& to,
                                                int64_t fenced_at, const std::string& detail) {
  STANDBY_SIM_YIELD(true, inner()->SetFailoverFence(failover_id, from, to, fenced_at, detail));
}
Status YieldingDatabase::SetFailoverLeftoversPending(const std::string& failover_id, bool pending) {
  STANDBY_SIM_YIELD(true, inner()->SetFailoverLeftoversPending(failover_id, pending));
}

}  // namespace standby::sim
