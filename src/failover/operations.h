#pragma once

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "failover/controller_context.h"
#include "failover/protection_spec.h"
#include "remote/ssh_session.h"

namespace standby {

// What `standby protect` does with the host.
struct PlacementRequest {
  std::string adopt_instance_id;       // --instance-id: a running instance of the provider
  std::optional<SshTarget> adopt_ssh;  // --ssh: a host no provider rents
  bool provision = false;              // --provision: race, restore, start, check
};

// `protect`: stores the spec (a new instance, or an update of an existing one) and places
// the instance: adopts a running host (checked through the agent, which starts the
// workload unless it already runs it) or rents one through the same failover state
// machine `serve` uses (trigger `initial`, resumable by `serve` if interrupted). Returns
// the stored instance.
Result<ProtectedInstance> Protect(ControllerContext* ctx, const ProtectionSpec& spec,
                                  const PlacementRequest& placement, const std::atomic<bool>* stop);

// `unprotect`: forgets the instance (its history stays); with `destroy`, destroys its host.
Status Unprotect(ControllerContext* ctx, const std::string& name, bool destroy);

// `pause`: the controller leaves the instance alone — it acts on no probe, fails nothing
// over and takes no snapshot — until `resume`; its host keeps running and stays owned (for
// maintenance on the host). kConflict while a failover or a placement runs.
// Idempotent; returns the stored instance.
Result<ProtectedInstance> PauseProtection(ControllerContext* ctx, const std::string& name);
// `resume`: watched again, from fresh probes only (the paused time is no evidence): healthy
// with a host, failed without one (so the controller places it again at once).
Result<ProtectedInstance> ResumeProtection(ControllerContext* ctx, const std::string& name);

// One instance as `status --json` shows it (docs/manual.md, "status"), with the failover
// running for it, if any, and the old hosts whose fence is still pending (`fence_pending`:
// each {failover_id, provider_instance_id, ssh_host, ssh_port, since_ms, detail}).
nlohmann::json InstanceStatusJson(const ProtectedInstance& p,
                                  const std::optional<FailoverEvent>& running, int64_t now_ms,
                                  const std::vector<FailoverEvent>& pending_fences = {});
// Every instance (or one), with the failover running for each, if any.
Result<nlohmann::json> StatusReport(ControllerContext* ctx, const std::string& name);
// Every failover_events column under its column name.
nlohmann::json FailoverEventJson(const FailoverEvent& e);
// Failovers, newest first (of one instance when `name` is set).
Result<std::vector<FailoverEvent>> ListEvents(ControllerContext* ctx, const std::string& name);

// `snapshot create` by hand: the snapshot its --json output describes is recorded as the
// controller records its own (RecordSnapshotTaken), so `status` and `metrics` show its age.
Status RecordHandSnapshot(ControllerContext* ctx, const nlohmann::json& snapshot);

// The live controller's heartbeat, if one reported within a few probe intervals.
Result<std::optional<ControllerRow>> LiveController(ControllerContext* ctx);

// `failover NAME` / `snapshot now NAME` / drills: a request the running controller picks up
// within one probe interval. kUnavailable when no controller runs; kNotFound for an unknown
// instance; kConflict starting with `already_failing_over` (and naming the running failover)
// for a failover requested while one runs — answered at once, not recorded. `no_stop`: a
// planned move that keeps the old workload serving until the new host passes.
Result<RequestRow> SubmitRequest(ControllerContext* ctx, const std::string& name,
                                 const std::string& kind, Trigger trigger, bool planned,
                                 bool no_stop = false);

// `standby fence confirm`: the operator attests that the old host of failover `failover_id`,
// whose fence is pending or waiting, no longer serves (it died for good, or was stopped by
// hand). The fence reads confirmed with `reason`; a waiting failover starts its new workload;
// a finished one's old machine is released or destroyed (pending when not confirmed).
// kNotFound for an unknown failover, kInvalidArgument when its fence is not open.
Result<FailoverEvent> ConfirmFence(ControllerContext* ctx, const std::string& failover_id,
                                   const std::string& reason);

// Follows a request to its failover and the failover to its end, calling `on_change` with
// the row each time its phase, progress, fence or replacement changes. Bounded by `timeout`.
// kConflict (`already_failing_over: ...`) when the controller answered that a failover of the
// instance was already running.
Result<FailoverEvent> WaitForFailover(ControllerContext* ctx, const std::string& request_id,
                                      std::chrono::seconds timeout,
                                      const std::function<void(const FailoverEvent&)>& on_change);

}  // namespace standby
