// Starting, settling and giving up failovers (recovery.h): the failover row and the
// instance's state written in order, what interrupted races left, and the transport of a
// long host job.
#include "base/strings.h"
#include "failover/protected_rows.h"
#include "failover/recovery.h"
#include "failover/speculation.h"
#include "provision/ownership.h"

namespace standby {
namespace {

bool ClaimsInstance(const ProtectedInstance& p) {
  return p.status == ProtectionStateName(ProtectionState::kFailingOver) ||
         p.status == ProtectionStateName(ProtectionState::kPlacing);
}

}  // namespace

Result<FailoverEvent> BeginFailover(ControllerContext* ctx, const ProtectedInstance& instance,
                                    const FailoverStart& start) {
  // (A placement's instance reads `placing` already: `protect` wrote it so, naming no
  // failover that still runs.)
  if (ClaimsInstance(instance)) {
    bool running = start.trigger != Trigger::kInitial || !instance.last_failover_id.empty();
    if (start.trigger == Trigger::kInitial && !instance.last_failover_id.empty()) {
      ASSIGN_OR_RETURN(auto last,
                       ctx->state->ListFailoverEvents({.failover_id = instance.last_failover_id}));
      running = !last.empty() && last.front().completed_at == 0;
    }
    if (running) {
      return ConflictError(instance.instance_id + ": failover " + instance.last_failover_id +
                           " is already running");
    }
  }
  const int64_t now = NowMillis(ctx->clock);
  FailoverEvent e;
  e.failover_id = "fo-" + ctx->random->HexId(12);
  e.instance_id = instance.instance_id;
  e.trigger = std::string(TriggerName(start.trigger));
  e.planned = start.planned;
  e.no_stop = start.planned && start.no_stop;
  e.retry_of = start.retry_of;
  e.started_at = now;
  e.first_failure_at = start.first_failure_at_ms > 0 ? start.first_failure_at_ms : now;
  e.detected_at = now;
  e.detection_ms = now - e.first_failure_at;
  e.phase = std::string(FailoverPhaseName(FailoverPhase::kDetected));
  e.provider = instance.provider.empty() ? ctx->fleet->provider()->Name() : instance.provider;
  e.original_instance_id = instance.provider_instance_id;
  e.original_machine_id = instance.machine_id;
  e.original_ssh_host = instance.ssh_host;
  e.original_ssh_port = instance.ssh_port;
  e.original_ssh_user = instance.ssh_user;
  e.note = start.reason;
  e.updated_at = now;
  e.controller = ctx->controller;
  e.claimed_by = ctx->ProcessId();
  e.claim_expires_at = now + ctx->claim_ttl.count();
  // The row first, claimed: were the instance's claim written first and the process killed
  // in between, another process could not tell a failover about to start from a lost one.
  // A row the instance never pointed at is recognised and settled (AbandonOrphanFailovers).
  RETURN_IF_ERROR(ctx->state->RecordFailoverEvent(e));
  ProtectedInstance claimed = instance;
  claimed.status = std::string(ProtectionStateName(start.trigger == Trigger::kInitial
                                                       ? ProtectionState::kPlacing
                                                       : ProtectionState::kFailingOver));
  claimed.last_failover_id = e.failover_id;
  claimed.health_detail = start.reason;
  claimed.updated_at = now;
  auto version = ctx->state->UpdateProtectedInstance(claimed);
  if (!version) {
    // Another writer changed the instance first: this failover never began.
    e.phase = std::string(FailoverPhaseName(FailoverPhase::kFailed));
    e.failure_phase = e.phase;
    e.failure_reason = "never started: " + version.error().message;
    e.completed_at = NowMillis(ctx->clock);
    ctx->state->RecordFailoverEvent(e).IgnoreError();  // else settled as an orphan later
    return version.error();
  }
  ctx->Log(instance.instance_id + ": failover " + e.failover_id + " started (" + e.trigger +
           (start.planned ? (e.no_stop ? ", planned, no stop" : ", planned") : "") +
           "): " + start.reason);
  if (ctx->crash_after_persist &&
      ctx->crash_after_persist(e.failover_id, FailoverPhase::kDetected)) {
    return UnavailableError("controller stopped (crash point) after persisting detected");
  }
  return e;
}

Result<bool> ApplyFailoverOutcome(ControllerContext* ctx, const FailoverEvent& row) {
  const bool done = row.phase == FailoverPhaseName(FailoverPhase::kDone);
  const bool initial = row.trigger == TriggerName(Trigger::kInitial);
  // A planned move that never stopped nor fenced the old host left it serving.
  const bool old_serves = !done && row.planned && row.fence.empty() &&
                          row.workload_stopped_at == 0 && !row.original_ssh_host.empty();
  ASSIGN_OR_RETURN(
      auto updated, UpdateProtectedRow(ctx, row.instance_id, [&](ProtectedInstance& p) {
        if (p.last_failover_id != row.failover_id || !ClaimsInstance(p)) return false;
        if (done) {
          p.provider = ctx->fleet->provider()->Name();
          p.provider_instance_id = row.new_instance_id;
          p.machine_id = row.new_machine_id;
          p.ssh_host = row.new_ssh_host;
          p.ssh_port = row.new_ssh_port;
          p.ssh_user = row.new_ssh_user;
          p.gpu_name = row.gpu_name;
          p.status = std::string(ProtectionStateName(ProtectionState::kHealthy));
          if (!initial) {
            ++p.failovers;
            p.last_mttr_ms = row.total_ms;
          }
          p.health_detail = (initial ? "placed on " : "failed over to ") + row.new_instance_id +
                            " in " + HumanSeconds(row.total_ms / 1000.0);
        } else if (old_serves) {
          p.status = std::string(ProtectionStateName(ProtectionState::kHealthy));
          p.health_detail =
              "planned move " + row.failover_id + " failed (" + row.failure_reason + ")";
        } else {
          p.status = std::string(ProtectionStateName(ProtectionState::kFailed));
          p.health_detail = "failover " + row.failover_id + " failed while " + row.failure_phase +
                            ": " + row.failure_reason;
        }
        return true;
      }));
  return updated.has_value();
}

bool AbandonFailover(ControllerContext* ctx, FailoverEvent row, const std::string& reason) {
  // Acting on a failover needs its claim: another process may have taken it over meanwhile.
  const int64_t now = NowMillis(ctx->clock);
  auto claimed = ctx->state->ClaimFailover(row.failover_id, ctx->ProcessId(), now,
                                           now + ctx->claim_ttl.count());
  if (!claimed || !*claimed) {
    ctx->Log(row.instance_id + ": failover " + row.failover_id + " not abandoned here (" +
             (claimed ? "it ended, or another process runs it" : claimed.error().message) + ")");
    return false;
  }
  Provider* provider = ctx->fleet->provider();
  // Recorded before anything slow: its replacement is destroy-pending (retried whoever
  // lives), and the failover ends (nobody adopts it) with its leftovers pending until swept.
  const std::string replacement = row.new_instance_id;
  if (!replacement.empty()) {
    Status marked = ctx->state->MarkProviderInstanceDestroyPending(
        provider->Name(), replacement, row.instance_id, now, "its failover was abandoned");
    if (!marked) {
      ctx->Log(row.instance_id + ": failover " + row.failover_id +
               " not abandoned yet: " + marked.error().message);
      return false;
    }
  }
  row.phase = std::string(FailoverPhaseName(FailoverPhase::kFailed));
  row.failure_phase = row.phase;
  row.failure_reason = reason;
  row.success = false;
  row.completed_at = now;
  row.updated_at = now;
  row.new_instance_id.clear();
  row.leftovers_pending = true;
  Status recorded = ctx->state->RecordFailoverEvent(row);
  if (!recorded) {
    ctx->Log(row.instance_id + ": failover " + row.failover_id +
             " not abandoned yet: " + recorded.error().message);
    return false;
  }
  ctx->Log(row.instance_id + ": failover " + row.failover_id + " abandoned: " + reason);
  ctx->Notify([&](ControllerObserver& o) { o.FailoverPhase(row); });
  if (!replacement.empty()) {
    DestroyOrPending(ctx, replacement, row.instance_id);
  }
  if (DestroyRaceLeftovers(ctx, row, {}, nullptr)) {
    // Else swept again by the cleanup task (the sweep is idempotent).
    ctx->state->SetFailoverLeftoversPending(row.failover_id, false).IgnoreError();
  }
  return true;
}

void DestroyOrPending(ControllerContext* ctx, const std::string& id, const std::string& instance) {
  Status gone = DestroyAndConfirm(ctx->fleet->provider(), ctx->state, id, ctx->clock,
                                  {.instance_id = instance});
  if (!gone) ctx->Log(instance + ": " + gone.error().message);
}

void AbandonOrphanFailovers(ControllerContext* ctx) {
  auto events = ctx->state->ListFailoverEvents({.unfinished_only = true});
  if (!events) return;  // the next pass
  const int64_t now = NowMillis(ctx->clock);
  for (const FailoverEvent& e : *events) {
    // A live claim is left alone, this process's own too: its failover may be between
    // BeginFailover's two writes right now.
    if (e.claim_expires_at >= now) continue;
    auto instance = ctx->state->GetProtectedInstance(e.instance_id);
    if (!instance) continue;
    if (!*instance) {
      AbandonFailover(ctx, e, e.instance_id + " is no longer protected");
    } else if ((*instance)->last_failover_id != e.failover_id && e.phase == "detected") {
      // BeginFailover's process died between its two writes: nothing ran for it.
      AbandonFailover(ctx, e,
                      "never started (its process stopped before claiming " + e.instance_id + ")");
    }
  }
}

Status DestroyRaceLeftovers(ControllerContext* ctx, const FailoverEvent& row,
                            const std::set<std::string>& keep,
                            const std::function<void(const Instance&)>& on_each) {
  Provider* provider = ctx->fleet->provider();
  // Every attempt's race is labelled failover:<failover_id>-<attempt>…; machines rented on
  // suspicion speculative:<instance>+….
  auto raced =
      provider->List(ctx->fleet->provisioner()->LabelFor("failover", row.failover_id + "-"));
  auto speculated = provider->List(SpeculativeLabelPrefix(ctx, row.instance_id));
  // What still serves or may serve is never a leftover: a protected instance's host, what a
  // running failover names (its replacement, an old host still to fence).
  std::set<std::string> named = keep;
  auto instances = ctx->state->ListProtectedInstances();
  auto running = ctx->state->ListFailoverEvents({.unfinished_only = true});
  if (!instances || !running) {
    return (!instances ? instances.error() : running.error())
        .WithContext("reading what serves before sweeping the races of " + row.failover_id);
  }
  for (const ProtectedInstance& p : *instances) named.insert(p.provider_instance_id);
  for (const FailoverEvent& e : *running) {
    if (e.failover_id == row.failover_id) continue;
    named.insert(e.new_instance_id);
    named.insert(e.original_instance_id);
  }
  for (const auto* listed : {&raced, &speculated}) {
    if (!*listed) continue;
    for (const Instance& i : **listed) {
      if (named.contains(i.id)) continue;
      if (on_each) on_each(i);
      DestroyOrPending(ctx, i.id, row.instance_id);
    }
  }
  if (!raced)
    return raced.error().WithContext("listing what the races of " + row.failover_id + " left");
  if (!speculated) {
    return speculated.error().WithContext("listing what was rented on suspicion for " +
                                          row.instance_id);
  }
  return OkStatus();
}

std::unique_ptr<AgentTransport> LongJobTransport(ControllerContext* ctx, const HostAddress& host) {
  auto transport = ctx->fleet->transports()->Connect(host);
  transport->SetTimeouts(std::chrono::seconds(30), std::chrono::milliseconds(0),
                         std::chrono::seconds(30));
  return transport;
}

}  // namespace standby
