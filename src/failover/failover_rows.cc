// Starting and giving up failovers (recovery.h): the failover row and the instance's state
// written together, what interrupted races left, and the transport of a long host job.
#include <mutex>
#include <thread>

#include "base/strings.h"
#include "failover/protected_rows.h"
#include "failover/recovery.h"
#include "provision/ownership.h"
#include "snapshot/repository.h"

namespace standby {
Result<FailoverEvent> BeginFailover(ControllerContext* ctx, const ProtectedInstance& instance,
                                    Trigger trigger, bool planned, int64_t first_failure_at_ms,
                                    const std::string& reason) {
  if (instance.status == ProtectionStateName(ProtectionState::kFailingOver)) {
    return ConflictError(instance.instance_id + ": failover " + instance.last_failover_id +
                         " is already running");
  }
  const int64_t now = NowMillis(ctx->clock);
  FailoverEvent e;
  e.failover_id = "fo-" + ctx->random->HexId(12);
  e.instance_id = instance.instance_id;
  e.trigger = std::string(TriggerName(trigger));
  e.planned = planned;
  e.started_at = now;
  e.first_failure_at = first_failure_at_ms > 0 ? first_failure_at_ms : now;
  e.detected_at = now;
  e.detection_ms = now - e.first_failure_at;
  e.phase = std::string(FailoverPhaseName(FailoverPhase::kDetected));
  e.provider = instance.provider.empty() ? ctx->fleet->provider()->Name() : instance.provider;
  e.original_instance_id = instance.provider_instance_id;
  e.original_machine_id = instance.machine_id;
  e.original_ssh_host = instance.ssh_host;
  e.original_ssh_port = instance.ssh_port;
  e.original_ssh_user = instance.ssh_user;
  e.note = reason;
  e.updated_at = now;
  e.controller = ctx->controller;
  // Claim the instance first: a claim without its row is noticed and undone at resume, but
  // a row without its claim would be resumed as a failover nobody asked for.
  ProtectedInstance claimed = instance;
  claimed.status = std::string(ProtectionStateName(ProtectionState::kFailingOver));
  claimed.last_failover_id = e.failover_id;
  claimed.health_detail = reason;
  claimed.updated_at = now;
  ASSIGN_OR_RETURN(int64_t version, ctx->state->UpdateProtectedInstance(claimed));
  (void)version;
  RETURN_IF_ERROR(ctx->state->RecordFailoverEvent(e));
  ctx->Log(instance.instance_id + ": failover " + e.failover_id + " started (" + e.trigger +
           (planned ? ", planned" : "") + "): " + reason);
  if (ctx->crash_after_persist &&
      ctx->crash_after_persist(e.failover_id, FailoverPhase::kDetected)) {
    return UnavailableError("controller stopped (crash point) after persisting detected");
  }
  return e;
}

void AbandonFailover(ControllerContext* ctx, FailoverEvent row, const std::string& reason) {
  Provider* provider = ctx->fleet->provider();
  if (!row.new_instance_id.empty()) {
    DestroyAndConfirm(provider, ctx->state, row.new_instance_id, ctx->clock);
  }
  DestroyRaceLeftovers(ctx, row.failover_id, nullptr);
  const int64_t now = NowMillis(ctx->clock);
  row.phase = std::string(FailoverPhaseName(FailoverPhase::kFailed));
  row.failure_phase = row.phase;
  row.failure_reason = reason;
  row.success = false;
  row.completed_at = now;
  row.updated_at = now;
  ctx->state->RecordFailoverEvent(row).IgnoreError();
  ctx->Log(row.instance_id + ": failover " + row.failover_id + " abandoned: " + reason);
  ctx->Notify([&](ControllerObserver& o) { o.FailoverPhase(row); });
}

void DestroyRaceLeftovers(ControllerContext* ctx, const std::string& failover_id,
                          const std::function<void(const Instance&)>& on_each) {
  // Every attempt's race is labelled failover:<failover_id>-<attempt>.
  Provider* provider = ctx->fleet->provider();
  auto leftovers =
      provider->List(ctx->fleet->provisioner()->LabelFor("failover", failover_id + "-"));
  if (!leftovers) return;
  for (const Instance& i : *leftovers) {
    if (on_each) on_each(i);
    DestroyAndConfirm(provider, ctx->state, i.id, ctx->clock);
  }
}

std::unique_ptr<AgentTransport> LongJobTransport(ControllerContext* ctx, const HostAddress& host) {
  auto transport = ctx->fleet->transports()->Connect(host);
  transport->SetTimeouts(std::chrono::seconds(30), std::chrono::milliseconds(0),
                         std::chrono::seconds(30));
  return transport;
}

}  // namespace standby
