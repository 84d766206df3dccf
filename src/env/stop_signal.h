#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace standby {

// A one-way "stop now" that waiting threads notice at once: Set() wakes every Wait on it,
// so a background timer ends the moment its owner is done instead of at its next poll.
// Thread-safe.
class StopSignal {
 public:
  // Returns whether it was set already (so one caller of several does the stopping).
  bool Set();
  bool IsSet() const { return set_.load(); }
  // The flag itself, for interfaces that poll an atomic.
  const std::atomic<bool>& flag() const { return set_; }
  // Blocks up to `duration` of real time, or until Set(); true when set.
  bool WaitFor(std::chrono::nanoseconds duration);

 private:
  std::atomic<bool> set_{false};
  std::mutex mu_;
  std::condition_variable changed_;
};

}  // namespace standby
