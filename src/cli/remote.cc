#include "cli/remote.h"

#include "base/json_fields.h"
#include "base/strings.h"
#include "provision/provider_settings.h"
#include "remote/ssh_session.h"
#include "store/store_config.h"

namespace standby {
namespace {

// The agent's log events, printed as the same command run here prints its lines.
void PrintAgentLog(const AgentEvent& event, bool json) {
  if (event.type != "log") return;
  JsonFields f(event.body, "agent log");
  std::string level = f.OptionalString("level", 16).value_or("info");
  std::string message = EscapeControl(f.OptionalString("message", 64 * 1024).value_or(""));
  if (!f.status()) message = EscapeControl(f.status().error().message);
  if (level == "warning" || level == "warn") {
    Say("warning: " + message);
  } else if (level == "error" || level == "critical") {
    Say("error: " + message);
  } else if (level != "debug" && level != "trace") {
    Progress(message, json);
  }
}

}  // namespace

Result<HostCommand> HostCommandFor(const Invocation& inv, bool with_store) {
  HostCommand where;
  ASSIGN_OR_RETURN(
      where.ssh, SshSettingsFromConfig(inv.config, StateDirFromConfig(inv.config), Clock::Real()));
  if (inv.Has("ssh")) {
    ASSIGN_OR_RETURN(SshTarget target, ParseSshTarget(inv.Flag("ssh").value_or("")));
    where.address =
        HostAddress{target.user, target.host, target.port, inv.Flag("ssh-host-id").value_or("")};
  }
  if (with_store) {
    ASSIGN_OR_RETURN(StoreSettings settings, StoreSettingsFromConfig(inv.config, Clock::Real()));
    where.store = StoreAccess{inv.config.GetOr("repo", ""), settings};
  }
  where.on_event = [json = inv.json](const AgentEvent& event) { PrintAgentLog(event, json); };
  return where;
}

}  // namespace standby
