#include "failover/operations.h"

#include <algorithm>

#include "failover/protected_rows.h"
#include "failover/recovery.h"
#include "failover/vocabulary.h"
#include "provision/ownership.h"
#include "state/state_rows.h"

namespace standby {
namespace {

using nlohmann::json;

json OrNull(int64_t value) { return value > 0 ? json(value) : json(nullptr); }

// Checks an adopted host through the agent and hands it the workload.
Status AdoptHost(ControllerContext* ctx, const ProtectionSpec& spec, const HostAddress& host) {
  auto transport = ctx->fleet->transports()->Connect(host);
  StoreAccess no_store;
  HostAgent agent(transport.get(), &no_store);
  auto health = agent.Health(spec.name, spec.workspace, spec.workload);
  if (!health) {
    return health.error().WithContext("cannot adopt " + host.Describe() +
                                      ": its agent does not answer");
  }
  if (!spec.workload.command.empty() && !health->workload_alive) {
    RETURN_IF_ERROR(
        agent.StartWorkload(spec.name, spec.workspace, spec.workload).transform([](auto&&) {}));
  }
  return OkStatus();
}

}  // namespace

Result<ProtectedInstance> Protect(ControllerContext* ctx, const ProtectionSpec& spec,
                                  const PlacementRequest& placement,
                                  const std::atomic<bool>* stop) {
  RETURN_IF_ERROR(ValidateSpec(spec));
  const int modes =
      !placement.adopt_instance_id.empty() + placement.adopt_ssh.has_value() + placement.provision;
  if (modes > 1) {
    return InvalidArgumentError("give one of --instance-id, --ssh and --provision");
  }
  const std::string spec_json = SpecToJson(spec).dump();
  ASSIGN_OR_RETURN(auto existing, ctx->state->GetProtectedInstance(spec.name));
  const bool has_host = existing && !existing->ssh_host.empty();
  if (existing && modes > 0 &&
      (existing->status == ProtectionStateName(ProtectionState::kPlacing) ||
       existing->status == ProtectionStateName(ProtectionState::kFailingOver))) {
    return ConflictError(std::string(kAlreadyFailingOver) + ": " + spec.name + " is being " +
                         (existing->status == ProtectionStateName(ProtectionState::kPlacing)
                              ? "placed"
                              : "failed over") +
                         " (failover " + existing->last_failover_id + ")");
  }
  if (existing && (modes == 0 || has_host)) {
    if (modes > 0) {
      return ConflictError(spec.name + " is already protected on " + existing->ssh_host + ":" +
                           std::to_string(existing->ssh_port) +
                           "; run `standby protect` without a host to change its settings, or "
                           "`standby failover` to move it");
    }
    ASSIGN_OR_RETURN(auto updated, UpdateProtectedRow(ctx, spec.name, [&](ProtectedInstance& p) {
                       p.spec_json = spec_json;
                       return true;
                     }));
    if (!updated) return NotFoundError("protected instance " + spec.name + " vanished");
    ctx->Log(spec.name + ": settings updated");
    return *updated;
  }
  if (modes == 0) {
    return InvalidArgumentError("name the host of " + spec.name +
                                ": --instance-id ID, --ssh USER@HOST[:PORT] or --provision");
  }
  const int64_t now = NowMillis(ctx->clock);
  ProtectedInstance row = existing.value_or(ProtectedInstance{});
  row.instance_id = spec.name;
  row.spec_json = spec_json;
  row.provider = ctx->fleet->provider()->Name();
  row.status = std::string(ProtectionStateName(ProtectionState::kHealthy));
  if (row.created_at == 0) row.created_at = now;
  row.updated_at = now;
  if (!placement.adopt_instance_id.empty()) {
    ASSIGN_OR_RETURN(Instance i, ctx->fleet->provider()->Get(placement.adopt_instance_id));
    if (i.state != InstanceState::kRunning || i.ssh.empty()) {
      return UnavailableError("instance " + i.id + " is " +
                              std::string(InstanceStateName(i.state)) +
                              ", not running with SSH; wait for it or use --provision");
    }
    row.provider_instance_id = i.id;
    row.machine_id = i.machine_id;
    row.ssh_host = i.ssh.front().host;
    row.ssh_port = i.ssh.front().port;
    row.ssh_user = i.ssh.front().user.empty() ? spec.ssh_user : i.ssh.front().user;
    row.gpu_name = i.gpu_name;
    row.price_per_hour = i.price_per_hour;
    RETURN_IF_ERROR(AdoptHost(
        ctx, spec, {row.ssh_user, row.ssh_host, static_cast<uint16_t>(row.ssh_port), i.id}));
    RETURN_IF_ERROR(ctx->state->RecordProviderInstance(
        {row.provider, i.id, i.machine_id, i.label, "primary", i.gpu_name, i.price_per_hour,
         i.created_unix_ms, now, 0, spec.name, ctx->controller}));
  } else if (placement.adopt_ssh) {
    row.provider = "";  // no provider rents it: it is never destroyed, only fenced by its agent
    row.ssh_user = placement.adopt_ssh->user;
    row.ssh_host = placement.adopt_ssh->host;
    row.ssh_port = placement.adopt_ssh->port;
    RETURN_IF_ERROR(AdoptHost(
        ctx, spec, {row.ssh_user, row.ssh_host, static_cast<uint16_t>(row.ssh_port), ""}));
  } else {
    row.status = std::string(ProtectionStateName(ProtectionState::kPlacing));
  }
  row.health_detail = placement.provision ? "placing: racing for a machine" : "adopted";
  if (existing) {
    ASSIGN_OR_RETURN(row.version, ctx->state->UpdateProtectedInstance(row));
  } else {
    RETURN_IF_ERROR(ctx->state->CreateProtectedInstance(row));
    row.version = 1;
  }
  if (!placement.provision) {
    ctx->Log(spec.name + ": protected on " + row.ssh_host + ":" + std::to_string(row.ssh_port));
    return row;
  }
  ASSIGN_OR_RETURN(FailoverEvent placing, BeginFailover(ctx, row,
                                                        {.trigger = Trigger::kInitial,
                                                         .first_failure_at_ms = now,
                                                         .reason = "protect --provision"}));
  Recovery recovery(ctx, spec, std::move(placing));
  auto ran = recovery.Run(stop);
  if (!ran && stop != nullptr && stop->load()) {
    // Interrupted (Ctrl-C): what it rented goes back; the instance is left failed (no host),
    // so a running controller places it again after its backoff unless it is unprotected.
    if (!AbandonFailover(ctx, recovery.row(), "placement interrupted")) {
      return CancelledError("placing " + spec.name + " was interrupted; a controller has taken " +
                            "the placement over and finishes it");
    }
    FailoverEvent given_up = recovery.row();
    given_up.phase = std::string(FailoverPhaseName(FailoverPhase::kFailed));
    given_up.failure_phase = given_up.phase;
    given_up.failure_reason = "placement interrupted";
    ApplyFailoverOutcome(ctx, given_up).IgnoreError();  // else settled by the controller
    return CancelledError("placing " + spec.name +
                          " was interrupted: what it rented was destroyed; `standby protect " +
                          spec.name + " --provision` places it again, `standby unprotect " +
                          spec.name + "` forgets it");
  }
  ASSIGN_OR_RETURN(FailoverEvent done, std::move(ran));
  if (!done.success) {
    return UnavailableError("placing " + spec.name + " failed while " + done.failure_phase + ": " +
                            done.failure_reason);
  }
  ASSIGN_OR_RETURN(auto placed, ctx->state->GetProtectedInstance(spec.name));
  if (!placed) return NotFoundError(spec.name + " was unprotected while it was placed");
  return *placed;
}

Status Unprotect(ControllerContext* ctx, const std::string& name, bool destroy) {
  ASSIGN_OR_RETURN(auto existing, ctx->state->GetProtectedInstance(name));
  if (!existing) return NotFoundError("no protected instance named " + name);
  // A failover nobody runs any more (its process stopped) is given up here, replacement and
  // race leftovers destroyed; one a live process runs is given up by that process when it
  // sees the instance gone (within one interval).
  ASSIGN_OR_RETURN(auto unfinished,
                   ctx->state->ListFailoverEvents({.instance_id = name, .unfinished_only = true}));
  const int64_t now = NowMillis(ctx->clock);
  for (const FailoverEvent& e : unfinished) {
    if (e.claim_expires_at >= now && e.claimed_by != ctx->ProcessId()) continue;
    AbandonFailover(ctx, e, name + " was unprotected");
  }
  // The host goes first: were the row gone and the destroy failed, nothing would name the
  // instance to destroy again (and its ownership would keep the reaper off it).
  const bool destroys = destroy && !existing->provider_instance_id.empty() &&
                        existing->provider == ctx->fleet->provider()->Name();
  if (destroys) {
    auto destroyed = ctx->fleet->Destroy(existing->provider_instance_id);
    if (!destroyed) return destroyed.error().WithContext(name + " stays protected");
  }
  RETURN_IF_ERROR(ctx->state->DeleteProtectedInstance(name));
  ctx->Log(name + ": unprotected" +
           (destroys ? "; destroyed its instance " + existing->provider_instance_id : ""));
  return OkStatus();
}

Result<ProtectedInstance> PauseProtection(ControllerContext* ctx, const std::string& name) {
  std::optional<Error> refused;
  ASSIGN_OR_RETURN(auto updated, UpdateProtectedRow(ctx, name, [&](ProtectedInstance& p) {
                     if (p.status == ProtectionStateName(ProtectionState::kFailingOver) ||
                         p.status == ProtectionStateName(ProtectionState::kPlacing)) {
                       refused =
                           ConflictError(name + " is being " +
                                         (p.status == ProtectionStateName(ProtectionState::kPlacing)
                                              ? "placed"
                                              : "failed over (" + p.last_failover_id + ")") +
                                         "; pause it when that has ended");
                       return false;
                     }
                     if (p.status == ProtectionStateName(ProtectionState::kPaused)) return false;
                     p.status = std::string(ProtectionStateName(ProtectionState::kPaused));
                     p.health_detail = "paused by an operator";
                     return true;
                   }));
  if (refused) return *refused;
  if (updated) ctx->Log(name + ": paused; the controller leaves it alone until `resume`");
  ASSIGN_OR_RETURN(auto current, ctx->state->GetProtectedInstance(name));
  if (!current) return NotFoundError("no protected instance named " + name);
  return *current;
}

Result<ProtectedInstance> ResumeProtection(ControllerContext* ctx, const std::string& name) {
  ASSIGN_OR_RETURN(
      auto updated, UpdateProtectedRow(ctx, name, [&](ProtectedInstance& p) {
        if (p.status != ProtectionStateName(ProtectionState::kPaused)) return false;
        p.status = std::string(ProtectionStateName(p.ssh_host.empty() ? ProtectionState::kFailed
                                                                      : ProtectionState::kHealthy));
        p.health_detail = "resumed by an operator";
        return true;
      }));
  if (updated) ctx->Log(name + ": resumed; watched again from fresh probes");
  ASSIGN_OR_RETURN(auto current, ctx->state->GetProtectedInstance(name));
  if (!current) return NotFoundError("no protected instance named " + name);
  return *current;
}

json InstanceStatusJson(const ProtectedInstance& p, const std::optional<FailoverEvent>& running,
                        int64_t now_ms, const std::vector<FailoverEvent>& pending_fences) {
  json fences = json::array();
  for (const FailoverEvent& e : pending_fences) {
    if (e.instance_id != p.instance_id || (e.fence != "pending" && e.fence != "waiting")) {
      continue;
    }
    fences.push_back({{"failover_id", e.failover_id},
                      {"fence", e.fence},
                      {"provider_instance_id", e.original_instance_id},
                      {"ssh_host", e.original_ssh_host},
                      {"ssh_port", e.original_ssh_port},
                      {"since_ms", e.started_at},
                      {"detail", e.fence_detail}});
  }
  json spec = json::object();
  if (auto parsed = SpecFromJson(p.spec_json)) {
    spec = {{"repo", parsed->repo},
            {"workspace", parsed->workspace},
            {"workload", parsed->workload.command},
            {"health_url", parsed->workload.health_url},
            {"snapshot_every_s", parsed->snapshot_every.count()},
            {"keep_last", parsed->keep_last}};
  }
  return {
      {"name", p.instance_id},
      {"state", p.status},
      {"provider", p.provider},
      {"provider_instance_id", p.provider_instance_id},
      {"machine_id", p.machine_id},
      {"ssh_user", p.ssh_user},
      {"ssh_host", p.ssh_host},
      {"ssh_port", p.ssh_port},
      {"gpu_name", p.gpu_name},
      {"price_per_hour", p.price_per_hour},
      {"phase", running ? json(running->phase) : json(nullptr)},
      {"progress", running ? json(running->progress) : json(nullptr)},
      {"failover_id", running ? json(running->failover_id) : json(nullptr)},
      {"last_snapshot_id", p.last_snapshot_id.empty() ? json(nullptr) : json(p.last_snapshot_id)},
      {"last_snapshot_at_ms", OrNull(p.last_snapshot_at)},
      {"last_snapshot_age_s",
       p.last_snapshot_at > 0 ? json((now_ms - p.last_snapshot_at) / 1000) : json(nullptr)},
      {"snapshot_failures", p.consecutive_snapshot_failures},
      {"failovers", p.failovers},
      {"last_failover_id", p.last_failover_id},
      {"last_mttr_ms", OrNull(p.last_mttr_ms)},
      {"health_detail", p.health_detail},
      {"fence_pending", fences},
      {"version", p.version},
      {"spec", spec}};
}

Result<json> StatusReport(ControllerContext* ctx, const std::string& name) {
  ASSIGN_OR_RETURN(auto instances, ctx->state->ListProtectedInstances());
  ASSIGN_OR_RETURN(auto events, ctx->state->ListFailoverEvents({.unfinished_only = true}));
  ASSIGN_OR_RETURN(auto pending, ctx->state->ListFailoverEvents({.cleanup_pending_only = true}));
  const int64_t now = NowMillis(ctx->clock);
  json list = json::array();
  for (const ProtectedInstance& p : instances) {
    if (!name.empty() && p.instance_id != name) continue;
    std::optional<FailoverEvent> running;
    for (const FailoverEvent& e : events) {
      if (e.instance_id == p.instance_id) running = e;
    }
    list.push_back(InstanceStatusJson(p, running, now, pending));
  }
  if (!name.empty() && list.empty()) return NotFoundError("no protected instance named " + name);
  ASSIGN_OR_RETURN(auto controller, LiveController(ctx));
  json out = {{"instances", list}, {"now_ms", now}, {"controller", nullptr}};
  if (controller) {
    out["controller"] = {{"name", controller->controller},
                         {"hostname", controller->hostname},
                         {"pid", controller->pid},
                         {"heartbeat_at_ms", controller->heartbeat_at},
                         {"api_url", controller->api_url}};
  }
  return out;
}

json FailoverEventJson(const FailoverEvent& e) {
  json out = FailoverEventTable().ToJson(e);
  json timings = json::object();
  try {
    timings = json::parse(e.phase_timings_json);
  } catch (const std::exception&) {
  }
  out["phase_timings"] = timings.is_object() ? timings : json::object();
  return out;
}

Result<std::vector<FailoverEvent>> ListEvents(ControllerContext* ctx, const std::string& name) {
  ASSIGN_OR_RETURN(auto out, ctx->state->ListFailoverEvents({.instance_id = name}));
  std::stable_sort(out.begin(), out.end(), [](const FailoverEvent& a, const FailoverEvent& b) {
    return a.started_at > b.started_at;
  });
  return out;
}

Status RecordHandSnapshot(ControllerContext* ctx, const nlohmann::json& s) {
  ASSIGN_OR_RETURN(SnapshotReport snap, ParseSnapshotReport(s));  // a host's words, checked
  const std::string instance = s.value("instance_id", "");
  return RecordSnapshotTaken(ctx, SnapshotRowOf(snap, instance, NowMillis(ctx->clock)),
                             s.value("repo", ""));
}

Result<std::optional<ControllerRow>> LiveController(ControllerContext* ctx) {
  ASSIGN_OR_RETURN(auto controllers, ctx->state->ListControllers());
  const int64_t now = NowMillis(ctx->clock);
  std::optional<ControllerRow> live;
  for (const ControllerRow& c : controllers) {
    int64_t window = std::max<int64_t>(3 * c.probe_interval_ms, 10'000);
    if (now - c.heartbeat_at <= window && (!live || c.heartbeat_at > live->heartbeat_at)) live = c;
  }
  return live;
}

Result<RequestRow> SubmitRequest(ControllerContext* ctx, const std::string& name,
                                 const std::string& kind, Trigger trigger, bool planned,
                                 bool no_stop) {
  ASSIGN_OR_RETURN(auto existing, ctx->state->GetProtectedInstance(name));
  if (!existing) return NotFoundError("no protected instance named " + name);
  const bool failing_over =
      existing->status == ProtectionStateName(ProtectionState::kFailingOver) ||
      existing->status == ProtectionStateName(ProtectionState::kPlacing);
  const bool moves = kind == "failover" || (kind == "drill" && planned);
  std::string running = failing_over ? existing->last_failover_id : "";
  if (moves && running.empty()) {
    // Its row is written before the instance is marked: a failover may be that young.
    ASSIGN_OR_RETURN(auto unfinished, ctx->state->ListFailoverEvents(
                                          {.instance_id = name, .unfinished_only = true}));
    if (!unfinished.empty()) running = unfinished.front().failover_id;
  }
  if (moves && (failing_over || !running.empty())) {
    return ConflictError(std::string(kAlreadyFailingOver) + ": failover " + running + " of " +
                         name + " is running (follow it with `standby events " + name + "`)");
  }
  ASSIGN_OR_RETURN(auto controller, LiveController(ctx));
  if (!controller) {
    return UnavailableError("no controller is running for " + ctx->state->Describe() +
                            ": start `standby serve` (the request was not recorded)");
  }
  RequestRow r;
  r.request_id = "rq-" + ctx->random->HexId(12);
  r.instance_id = name;
  r.kind = kind;
  r.planned = planned;
  r.trigger = std::string(TriggerName(trigger));
  r.no_stop = planned && no_stop;
  r.created_at = NowMillis(ctx->clock);
  RETURN_IF_ERROR(ctx->state->CreateRequest(r));
  return r;
}

Result<FailoverEvent> ConfirmFence(ControllerContext* ctx, const std::string& failover_id,
                                   const std::string& reason) {
  ASSIGN_OR_RETURN(auto rows, ctx->state->ListFailoverEvents({.failover_id = failover_id}));
  if (rows.empty()) return NotFoundError("no failover " + failover_id);
  FailoverEvent e = rows.front();
  if (e.fence != "pending" && e.fence != "waiting") {
    return InvalidArgumentError("the fence of failover " + failover_id + " is " +
                                (e.fence.empty() ? std::string("not open") : e.fence) +
                                ": nothing to confirm");
  }
  if (e.fence == "pending" && e.completed_at == 0) {
    return ConflictError("failover " + failover_id + " is still starting its new host; " +
                             "confirm its fence once it has ended (seconds)",
                         /*retryable=*/true);
  }
  const std::string was = e.fence;
  const int64_t now = NowMillis(ctx->clock);
  e.fence_detail = "confirmed by an operator (" + reason + "); before: " + e.fence_detail;
  e.fence = "confirmed";
  e.fenced_at = now;
  e.updated_at = now;
  Provider* provider = ctx->fleet != nullptr ? ctx->fleet->provider() : nullptr;
  if (provider != nullptr && !e.original_instance_id.empty() && provider->Name() == e.provider) {
    // The old machine's rental or pool claim ends now (a waiting failover goes on).
    Status gone = DestroyAndConfirm(provider, ctx->state, e.original_instance_id, ctx->clock,
                                    {.instance_id = e.instance_id});
    e.fence_detail +=
        gone ? "; instance " + e.original_instance_id + " released" : "; " + gone.error().message;
  }
  ASSIGN_OR_RETURN(bool set, ctx->state->SetFailoverFence(failover_id, was, e.fence, e.fenced_at,
                                                          e.fence_detail));
  if (!set) return ConflictError("the fence of failover " + failover_id + " changed meanwhile");
  ctx->Log(e.instance_id + ": fence of failover " + failover_id + " " + e.fence_detail);
  return e;
}

Result<FailoverEvent> WaitForFailover(ControllerContext* ctx, const std::string& request_id,
                                      std::chrono::seconds timeout,
                                      const std::function<void(const FailoverEvent&)>& on_change) {
  const int64_t deadline = ctx->clock->MonotonicNanos() + std::chrono::nanoseconds(timeout).count();
  const auto poll = std::chrono::milliseconds(250);
  std::string failover_id;
  while (failover_id.empty()) {
    ASSIGN_OR_RETURN(auto request, ctx->state->GetRequest(request_id));
    if (!request) return NotFoundError("request " + request_id + " vanished");
    if (request->result.starts_with(kAlreadyFailingOver)) {
      return ConflictError(request->result);
    } else if (!request->failover_id.empty()) {
      failover_id = request->failover_id;
    } else if (!request->result.empty()) {
      return ConflictError("the controller did not start the failover: " + request->result);
    } else if (ctx->clock->MonotonicNanos() > deadline) {
      return DeadlineExceededError("no controller took request " + request_id + " in time");
    } else {
      ctx->clock->SleepFor(poll);
    }
  }
  std::string seen;
  while (true) {
    ASSIGN_OR_RETURN(auto events, ctx->state->ListFailoverEvents({.failover_id = failover_id}));
    for (const FailoverEvent& e : events) {
      std::string now = e.phase + "/" + std::to_string(static_cast<int>(e.progress)) + "/" +
                        e.fence + "/" + e.new_instance_id;
      if (now != seen) {
        seen = now;
        if (on_change) on_change(e);
      }
      if (e.completed_at > 0) return e;
    }
    if (ctx->clock->MonotonicNanos() > deadline) {
      return DeadlineExceededError("failover " + failover_id + " still runs after " +
                                   std::to_string(timeout.count()) + " s");
    }
    ctx->clock->SleepFor(poll);
  }
}

}  // namespace standby
