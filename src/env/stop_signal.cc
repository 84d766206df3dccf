#include "env/stop_signal.h"

namespace standby {

bool StopSignal::Set() {
  bool was;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was = set_.exchange(true);
  }
  changed_.notify_all();
  return was;
}

bool StopSignal::WaitFor(std::chrono::nanoseconds duration) {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, duration, [&] { return set_.load(); });
}

}  // namespace standby
