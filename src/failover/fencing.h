#pragma once

#include <chrono>
#include <string>

#include "failover/controller_context.h"
#include "remote/host_agent.h"

namespace standby {

// The host a failover replaces, as fencing needs it.
struct OldHost {
  std::string instance;  // the protected instance (the agent's workload is named by it)
  std::string provider;  // who rents it; "" for a host adopted with --ssh
  std::string provider_instance_id;
  HostAddress ssh;  // empty host: never had one (a placement)
  std::string workspace;
  WorkloadSpec workload;
};

struct FenceResult {
  bool confirmed = false;
  // How it was fenced, or what failed: "workload stopped on root@h:22 (the agent confirms it
  // no longer runs); instance 12 destroyed (confirmed)".
  std::string detail;
};

// Fences `old` once, without retrying (callers retry with backoff). What "fenced" means:
// - a machine whose destroy stops it (Provider::DestroyStopsMachine: Vast.ai, the local
//   market): the destroy confirmed by the provider's listing. Before it, best effort, the
//   workload is stopped over SSH (bounded by `ssh_timeout`).
// - a machine that stays up when released (a static pool) and a host no provider rents
//   (--ssh): the workload stopped over SSH and the agent confirming it no longer runs. Only
//   then is a pool machine's claim released, so a machine still running the old workload is
//   never offered to a race; a host the controller cannot reach stays unconfirmed.
// A host with no address and no provider instance has nothing to fence (confirmed).
FenceResult FenceOldHost(ControllerContext* ctx, const OldHost& old,
                         std::chrono::milliseconds ssh_timeout);

// The workload on `host` stopped and, asked again, reported not running. kUnavailable when
// the host does not answer; kInternal when the agent says it still runs.
Status StopWorkloadConfirmed(ControllerContext* ctx, const std::string& instance,
                             const std::string& workspace, const HostAddress& host,
                             const WorkloadSpec& workload, std::chrono::milliseconds timeout);

}  // namespace standby
