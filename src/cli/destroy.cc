#include "cli/command.h"
#include "cli/provider_access.h"
#include "failover/runtime.h"

namespace standby {

// `standby destroy ID`: destroys, confirms the instance is gone and ends its ownership.
int RunDestroy(const std::vector<std::string>& args) {
  const std::string command = "destroy";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  if (inv->positional.empty()) return UsageError(command, "name the instance ID", inv->json);
  const std::string& id = inv->positional[0];
  auto opened = OpenControllerRuntime(inv->config, RuntimeParts::kFleet);
  if (!opened) return Fail(opened.error(), inv->json);
  auto destroyed = (*opened)->fleet->Destroy(id);
  if (!destroyed) return Fail(destroyed.error(), inv->json);
  if (*destroyed == DestroyOutcome::kAlreadyGone) {
    return Fail(
        NotFoundError("instance " + id + " not found on " + (*opened)->fleet->provider()->Name() +
                      "; already gone? (`standby instances --all` lists what exists)"),
        inv->json);
  }
  if (inv->json) {
    PrintJson({{"instance_id", id}, {"destroyed", true}});
  } else {
    Print("✓ Destroyed " + id);
  }
  return kExitOk;
}

}  // namespace standby
