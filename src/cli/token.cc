#include "api/api_token.h"
#include "cli/command.h"
#include "provision/provider_settings.h"

namespace standby {

// `standby token show|rotate`: the HTTP API's bearer token (docs/manual.md, "The HTTP API").
int RunToken(const std::vector<std::string>& args) {
  const std::string command = "token";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  const std::string action = inv->positional.empty() ? "" : inv->positional[0];
  if (action != "show" && action != "rotate") {
    return UsageError(command, "say `standby token show` or `standby token rotate`", inv->json);
  }
  const std::string state_dir = StateDirFromConfig(inv->config);
  auto token = action == "show" ? LoadOrCreateApiToken(state_dir) : RotateApiToken(state_dir);
  if (!token) return Fail(token.error(), inv->json);
  if (inv->json) {
    PrintJson({{"token", *token}, {"path", ApiTokenPath(state_dir)}});
  } else {
    std::printf("%s\n", token->c_str());
    if (action == "rotate") Say("the old token stops working at once; scrapers read the new file");
  }
  return kExitOk;
}

}  // namespace standby
