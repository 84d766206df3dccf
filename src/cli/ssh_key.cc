#include "cli/command.h"
#include "env/file_system.h"
#include "provision/provider_settings.h"
#include "remote/transport_factory.h"

namespace standby {

// Prints the public half of the key the controller logs in with (its own, made on first use,
// or STANDBY_SSH_KEY's), for a host's authorized_keys
// or a provider's account.
int RunSshKey(const std::vector<std::string>& args) {
  const std::string command = "ssh-key";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  auto identity = ControllerIdentityFromConfig(inv->config, StateDirFromConfig(inv->config));
  if (!identity) return Fail(identity.error(), inv->json);
  if (inv->json) {
    PrintJson(
        {{"public_key", identity->public_key}, {"private_key_path", identity->private_key_path}});
  } else {
    std::puts(identity->public_key.c_str());
  }
  return kExitOk;
}

}  // namespace standby
