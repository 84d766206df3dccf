#include "api/serve.h"

#include <unistd.h>

#include "cli/command.h"
#include "cli/interrupt.h"
#include "cli/provider_access.h"

namespace standby {

// `standby serve`: runs the controller until SIGTERM or SIGINT. The first signal stops it
// at a safe point (what is in flight persisted, resumed by the next serve); a second one
// exits at once.
int RunServe(const std::vector<std::string>& args) {
  const std::string command = "serve";
  auto inv = Prepare(command, args);
  if (!inv) return UsageError(command, inv.error().message, WantsJson(args));
  StopSignal* stop = CatchInterrupts("stopping at a safe point");
  ServeOptions options;
  options.log = [](const std::string& line) { Say(line); };
  options.on_listening = [json = inv->json](const std::string& url, const std::string& token_path,
                                            const std::string& token) {
    // The machine-readable line first, on stdout (with --json, the one document serve
    // prints). The token reaches a person at a terminal (in the fragment, which browsers
    // never send), never a log file.
    if (json) {
      PrintJson({{"listening_on", url}, {"token_file", token_path}});
    } else {
      std::printf("listening on %s\n", url.c_str());
      std::fflush(stdout);
    }
    if (::isatty(STDERR_FILENO)) {
      Say("dashboard: " + url + "/#token=" + token);
    } else {
      Say("dashboard: " + url + "/ (API token in " + token_path + ": standby token show)");
    }
  };
  Status served = Serve(inv->config, options, stop->flag());
  if (!served) return Fail(served.error(), inv->json);
  return kExitOk;
}

}  // namespace standby
