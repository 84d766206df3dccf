#include "cli/interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "cli/command.h"

namespace standby {
namespace {

std::atomic<int> first_signal{0};

std::string SignalName(int sig) {
  return sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "SIGINT";
}

}  // namespace

StopSignal* CatchInterrupts(std::string on_first, std::function<std::string()> on_second) {
  static StopSignal* stop = new StopSignal();  // lives as long as the waiting thread
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread waiter([signals, on_first = std::move(on_first), on_second = std::move(on_second)] {
    int sig = 0;
    sigwait(&signals, &sig);
    first_signal = sig;
    Say("received " + SignalName(sig) + ": " + on_first + " (again to exit at once)");
    stop->Set();
    sigwait(&signals, &sig);
    std::string last = on_second ? on_second() : "";
    Say("received " + SignalName(sig) + " again: exiting at once" +
        (last.empty() ? "" : "; " + last));
    _exit(128 + sig);
  });
  waiter.detach();
  return stop;
}

int InterruptedExitStatus() {
  int sig = first_signal.load();
  return sig == 0 ? kExitFailed : 128 + sig;
}

}  // namespace standby
