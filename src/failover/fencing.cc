#include "failover/fencing.h"

#include "provision/ownership.h"

namespace standby {

Status StopWorkloadConfirmed(ControllerContext* ctx, const std::string& instance,
                             const std::string& workspace, const HostAddress& host,
                             const WorkloadSpec& workload, std::chrono::milliseconds timeout) {
  auto transport = ctx->fleet->transports()->Connect(host);
  // Stopping takes up to the workload's grace period once the host answers.
  transport->SetTimeouts(timeout, std::chrono::seconds(workload.grace_seconds + 30));
  StoreAccess no_store;
  HostAgent agent(transport.get(), &no_store);
  auto stopped = agent.StopWorkload(instance, workload);
  if (!stopped) return stopped.error();
  transport->SetTimeouts(timeout, timeout);
  auto health = agent.Health(instance, workspace, workload);
  if (!health) return health.error().WithContext("after stopping the workload");
  if (health->workload_alive) {
    return InternalError("the agent on " + host.Describe() +
                         " still reports the workload running after stopping it");
  }
  return OkStatus();
}

FenceResult FenceOldHost(ControllerContext* ctx, const OldHost& old,
                         std::chrono::milliseconds ssh_timeout) {
#ifdef STANDBY_PLANTED_BUG_SKIP_FENCING
  // The deterministic simulation's planted bug (tests/sim, a test build only): fencing
  // reports success without touching the old host. The simulation must catch it.
  return {true, "planted bug: nothing was fenced"};
#endif
  Provider* provider = ctx->fleet->provider();
  const bool rented = !old.provider_instance_id.empty() && old.provider == provider->Name();
  const bool has_host = !old.ssh.host.empty();
  if (!rented && !has_host) return {true, "no old host"};
  if (rented && provider->DestroyStopsMachine()) {
    std::string stop_note;
    if (has_host) {
      Status stopped = StopWorkloadConfirmed(ctx, old.instance, old.workspace, old.ssh,
                                             old.workload, ssh_timeout);
      stop_note = stopped ? "workload stopped on " + old.ssh.Describe() + "; "
                          : "workload not stopped over SSH (" + stopped.error().message + "); ";
    }
    Status destroyed = DestroyAndConfirm(provider, ctx->state, old.provider_instance_id, ctx->clock,
                                         {.instance_id = old.instance});
    if (!destroyed) return {false, stop_note + destroyed.error().message};
    if (has_host) {
      // A later host at its address is a new host, not a changed key.
      ctx->fleet->ForgetPins(old.provider_instance_id,
                             {{old.ssh.host, old.ssh.port, "direct", ""}});
    }
    return {true, stop_note + "instance " + old.provider_instance_id +
                      " destroyed (the provider no longer lists it)"};
  }
  // The machine outlives a release (a pool) or nobody rents it (--ssh): only its agent can
  // stop the workload, and only its word that nothing runs confirms it.
  Status stopped =
      StopWorkloadConfirmed(ctx, old.instance, old.workspace, old.ssh, old.workload, ssh_timeout);
  if (!stopped) {
    return {false,
            "cannot stop the workload on " + old.ssh.Describe() + ": " + stopped.error().message};
  }
  std::string detail =
      "workload stopped on " + old.ssh.Describe() + " (the agent confirms it no longer runs)";
  if (rented) {
    Status released = DestroyAndConfirm(provider, ctx->state, old.provider_instance_id, ctx->clock,
                                        {.instance_id = old.instance});
    detail += released
                  ? "; " + provider->Name() + " machine " + old.provider_instance_id + " released"
                  : "; releasing it is pending (" + released.error().message + ")";
  }
  return {true, detail};
}

}  // namespace standby
