#include "base/strings.h"
#include "cli/command.h"
#include "failover/operations.h"
#include "failover/runtime.h"

namespace standby {
namespace {

void PrintProgress(const FailoverEvent& e) {
  std::string line = e.instance_id + ": " + e.failover_id + " " + e.phase;
  if (e.phase == "restoring") line += " " + std::to_string(static_cast<int>(e.progress)) + "%";
  if (e.phase == "done") {
    line += ": MTTR " + std::to_string(e.total_ms) + " ms";
    if (e.planned && e.pause_ms > 0)
      line += ", workload paused " + std::to_string(e.pause_ms) + " ms";
  }
  if (e.fence == "pending") line += " (old host not fenced yet: retried)";
  if (e.fence == "waiting") line += " (waiting for the old host to be fenced)";
  if (e.phase == "failed") line += " while " + e.failure_phase + ": " + e.failure_reason;
  Say(line);
}

}  // namespace

// `standby failover NAME [--planned] [--wait]`: asks the running controller to move the
// instance to a new host now.
int RunFailover(const std::vector<std::string>& args) {
  const std::string command = "failover";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  if (inv->positional.size() != 1) return UsageError(command, "name the instance", inv->json);
  std::chrono::seconds timeout{0};
  if (auto t = inv->Flag("timeout")) {  // the table's default when not given
    auto parsed = ParseUint(*t);
    if (!parsed || *parsed == 0) return UsageError(command, "--timeout wants seconds", inv->json);
    timeout = std::chrono::seconds(*parsed);
  }
  auto runtime = OpenControllerRuntime(inv->config, RuntimeParts::kState);
  if (!runtime) return Fail(runtime.error(), inv->json);
  ControllerContext* ctx = &(*runtime)->ctx;
  const bool no_stop = inv->Has("no-stop");
  const bool planned = inv->Has("planned") || no_stop;
  auto request = SubmitRequest(ctx, inv->positional[0], "failover",
                               planned ? Trigger::kPlanned : Trigger::kManual, planned, no_stop);
  if (!request) return Fail(request.error(), inv->json);
  if (!inv->Has("wait")) {
    if (inv->json) {
      PrintJson({{"request_id", request->request_id}, {"instance", request->instance_id}});
    } else {
      Print("requested failover of " + request->instance_id + " (" + request->request_id +
            "); the controller starts it within one probe interval");
    }
    return kExitOk;
  }
  auto done = WaitForFailover(ctx, request->request_id, timeout,
                              PrintProgress);  // on stderr: --json output stays alone on stdout
  if (!done) return Fail(done.error(), inv->json);
  if (!done->success) {
    return FailWithDetails(UnavailableError("failover " + done->failover_id + " failed while " +
                                            done->failure_phase + ": " + done->failure_reason),
                           inv->json, FailoverEventJson(*done));
  }
  if (inv->json) PrintJson(FailoverEventJson(*done));
  return kExitOk;
}

// `standby fence confirm FAILOVER_ID [--reason TEXT]`: the operator's word that the old host
// of a failover no longer serves, where the controller could not confirm it.
int RunFenceConfirm(const std::vector<std::string>& args) {
  const std::string command = "fence confirm";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  if (inv->positional.size() != 1) return UsageError(command, "name the failover", inv->json);
  auto runtime = OpenControllerRuntime(inv->config, RuntimeParts::kFleet);
  if (!runtime) return Fail(runtime.error(), inv->json);
  auto confirmed = ConfirmFence(&(*runtime)->ctx, inv->positional[0],
                                inv->Flag("reason").value_or("confirmed by an operator"));
  if (!confirmed) return Fail(confirmed.error(), inv->json);
  if (inv->json) {
    PrintJson(FailoverEventJson(*confirmed));
  } else {
    Print("fence of failover " + confirmed->failover_id + " (" + confirmed->instance_id +
          ") confirmed: " + EscapeControl(confirmed->fence_detail));
  }
  return kExitOk;
}

// `standby snapshot now NAME`: asks the running controller for a snapshot of the instance.
int RunSnapshotNow(const std::vector<std::string>& args) {
  const std::string command = "snapshot now";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  if (inv->positional.size() != 1) return UsageError(command, "name the instance", inv->json);
  auto runtime = OpenControllerRuntime(inv->config, RuntimeParts::kState);
  if (!runtime) return Fail(runtime.error(), inv->json);
  auto request =
      SubmitRequest(&(*runtime)->ctx, inv->positional[0], "snapshot", Trigger::kManual, false);
  if (!request) return Fail(request.error(), inv->json);
  if (inv->json) {
    PrintJson({{"request_id", request->request_id}, {"instance", request->instance_id}});
  } else {
    Print("requested a snapshot of " + request->instance_id + " (" + request->request_id + ")");
  }
  return kExitOk;
}

}  // namespace standby
