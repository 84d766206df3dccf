#include "env/doorbell.h"

namespace standby {

void Doorbell::Ring() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    rung_ = true;
  }
  changed_.notify_all();
}

bool Doorbell::Take() { return rung_.exchange(false); }

bool Doorbell::WaitFor(std::chrono::nanoseconds duration) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!changed_.wait_for(lock, duration, [&] { return rung_.load(); })) return false;
  return Take();
}

}  // namespace standby
