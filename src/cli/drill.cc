#include "failover/drill.h"

#include "base/strings.h"
#include "cli/command.h"
#include "failover/operations.h"
#include "failover/runtime.h"

namespace standby {

// `standby drill NAME [--kill | --planned] [--yes] [--wait] [--timeout S]`: a deliberate
// failure of a protected instance, recovered by the running controller.
int RunDrill(const std::vector<std::string>& args) {
  const std::string command = "drill";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  if (inv->positional.size() != 1) return UsageError(command, "name the instance", inv->json);
  if (inv->Has("kill") && inv->Has("planned")) {
    return UsageError(command, "a drill is --kill or --planned, not both", inv->json);
  }
  DrillRequest request;
  request.name = inv->positional[0];
  request.planned = inv->Has("planned");
  request.yes = inv->Has("yes");
  request.wait = inv->Has("wait");
  if (auto t = inv->Flag("timeout")) {
    auto parsed = ParseUint(*t);
    if (!parsed || *parsed == 0) return UsageError(command, "--timeout wants seconds", inv->json);
    request.timeout = std::chrono::seconds(*parsed);
  }
  auto runtime = OpenControllerRuntime(inv->config, RuntimeParts::kState);
  if (!runtime) return Fail(runtime.error(), inv->json);
  // The timeline goes to stderr: with --json, stdout holds the result alone.
  auto outcome = RunDrill(&(*runtime)->ctx, request, [](const std::string& line) { Say(line); });
  if (!outcome) return Fail(outcome.error(), inv->json);
  const std::string what = request.planned ? "planned-move drill" : "kill drill";
  if (!outcome->failover) {
    if (inv->json) {
      PrintJson({{"request_id", outcome->request.request_id}, {"instance", request.name}});
    } else {
      Print("requested a " + what + " of " + request.name + " (" + outcome->request.request_id +
            "); the controller starts it within one probe interval");
    }
    return kExitOk;
  }
  const FailoverEvent& e = *outcome->failover;
  const MttrHistory& h = outcome->history;
  nlohmann::json history = {{"failovers", h.count}};
  for (const auto& [column, d] : h.phases) history[column] = {{"p50", d.p50}, {"p90", d.p90}};
  const nlohmann::json report = {{"request_id", outcome->request.request_id},
                                 {"failover", FailoverEventJson(e)},
                                 {"history", history}};
  if (inv->json && e.success) {
    PrintJson(report);
  } else if (e.success) {
    std::printf("\n");
    for (const std::string& line : MttrTable(e, "this drill", &outcome->history)) {
      std::printf("%s\n", line.c_str());
    }
  }
  if (!e.success) {
    return FailWithDetails(UnavailableError("drill " + e.failover_id + " failed while " +
                                            e.failure_phase + ": " + e.failure_reason),
                           inv->json, report);
  }
  return kExitOk;
}

}  // namespace standby
