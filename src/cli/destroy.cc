#include "base/strings.h"
#include "cli/command.h"
#include "cli/provider_access.h"
#include "cli/state_access.h"
#include "provider/owned_registry.h"

namespace standby {

// `standby destroy ID`: destroys and confirms the instance is gone.
int RunDestroy(const std::vector<std::string>& args) {
  const std::string command = "destroy";
  auto inv = Prepare(command, args, ProviderFlagSpecs(), 1);
  if (!inv) return UsageError(command, inv.error().message, false);
  if (inv->positional.empty()) return UsageError(command, "name the instance ID", inv->json);
  const std::string& id = inv->positional[0];
  auto opened = OpenProvider(*inv);
  if (!opened) return Fail(opened.error(), inv->json);
  Status destroyed = opened->provider->Destroy(id);
  if (!destroyed) return Fail(destroyed.error(), inv->json);
  auto still = opened->provider->Get(id);
  if (still || still.error().code != ErrorCode::kNotFound) {
    return Fail(UnavailableError("instance " + id + " still exists after destroy; run it again"),
                inv->json);
  }
  OwnedRegistry(StateDir(*inv)).Remove(opened->provider->Name(), id).IgnoreError();
  if (inv->json) {
    PrintJson({{"instance_id", id}, {"destroyed", true}});
  } else {
    Say("✓ Destroyed " + id);
  }
  return kExitOk;
}

}  // namespace standby
