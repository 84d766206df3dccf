#include "failover/serve.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "cli/command.h"
#include "cli/provider_access.h"

namespace standby {

// `standby serve`: runs the controller until SIGTERM or SIGINT. The first signal stops it
// at a safe point (what is in flight persisted, resumed by the next serve); a second one
// exits at once.
int RunServe(const std::vector<std::string>& args) {
  const std::string command = "serve";
  auto specs = ProviderFlagSpecs();
  specs.push_back({"probe-interval", true, "failover.probe_interval_ms"});
  auto inv = Prepare(command, args, specs, 0);
  if (!inv) return UsageError(command, inv.error().message, false);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // every thread started from here inherits it
  std::atomic<bool> stop{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    Say("received " + std::string(sig == SIGTERM ? "SIGTERM" : "SIGINT") +
        ": stopping at a safe point (again to exit at once)");
    stop = true;
    sigwait(&signals, &sig);
    _exit(130);
  });
  waiter.detach();
  ServeOptions options;
  options.log = [](const std::string& line) { Say(line); };
  Status served = Serve(inv->config, options, stop);
  if (!served) return Fail(served.error(), inv->json);
  return kExitOk;
}

}  // namespace standby
