#include "base/strings.h"
#include "cli/command.h"
#include "cli/provider_access.h"
#include "failover/runtime.h"

namespace standby {

// `standby reap`: destroys this controller's labelled instances that nothing owns.
int RunReap(const std::vector<std::string>& args) {
  const std::string command = "reap";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  auto grace = ParseUint(inv->Flag("grace-seconds").value_or(""));
  if (!grace) return UsageError(command, "--grace-seconds wants a number", inv->json);
  auto opened = OpenControllerRuntime(inv->config, RuntimeParts::kFleet);
  if (!opened) return Fail(opened.error(), inv->json);
  auto reaped = (*opened)->fleet->Reap(std::chrono::seconds(*grace));
  if (!reaped) return Fail(reaped.error(), inv->json);
  const nlohmann::json report{{"destroyed", reaped->destroyed},
                              {"kept_young", reaped->kept_young},
                              {"failed", reaped->failed}};
  if (!inv->json) {
    Print("reaped " + std::to_string(reaped->destroyed.size()) + " orphan(s); " +
          std::to_string(reaped->kept_young.size()) + " unowned but younger than the grace period");
  }
  if (!reaped->failed.empty()) {
    return FailWithDetails(UnavailableError(std::to_string(reaped->failed.size()) +
                                            " orphan(s) could not be destroyed; run reap again"),
                           inv->json, report);
  }
  if (inv->json) PrintJson(report);
  return kExitOk;
}

}  // namespace standby
