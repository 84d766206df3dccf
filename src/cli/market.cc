#include "cli/command.h"
#include "cli/provider_access.h"
#include "failover/runtime.h"
#include "provider/local_market.h"

namespace standby {

// `standby market kill ID`: chaos for the local market — the host's sshd and everything it
// started die; the provider reports the instance offline after the profile's lag.
int RunMarketKill(const std::vector<std::string>& args) {
  const std::string command = "market kill";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  if (inv->positional.empty()) return UsageError(command, "name the instance ID", inv->json);
  if (inv->config.GetOr("provider", "local") != "local") {
    return UsageError(command, "only local market instances can be killed", inv->json);
  }
  auto opened = OpenControllerRuntime(inv->config, RuntimeParts::kFleet);
  if (!opened) return Fail(opened.error(), inv->json);
  Status killed = (*opened)->fleet->Kill(inv->positional[0]);
  if (!killed) return Fail(killed.error(), inv->json);
  if (inv->json) {
    PrintJson({{"instance_id", inv->positional[0]}, {"killed", true}});
  } else {
    Print("killed " + inv->positional[0]);
  }
  return kExitOk;
}

// `standby market-host DIR` (internal): the supervisor process of one local host.
int RunMarketHost(const std::vector<std::string>& args) {
  if (args.size() != 1) return UsageError("market-host", "internal: market-host DIR", false);
  return RunLocalHost(args[0]);
}

}  // namespace standby
