#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace standby {

// "Something is waiting for you" between threads (a queue got an item): Ring() marks it and
// wakes a waiter, which takes the ring and looks. Unlike StopSignal it resets when taken.
// Waiters wait through Clock::WaitForBell, so the simulation's scheduler sees the wait.
// Thread-safe.
class Doorbell {
 public:
  void Ring();
  // Whether it rang since the last Take(); clears it.
  bool Take();
  // Whether it rang since the last Take(), without clearing it.
  bool Pending() const { return rung_.load(); }
  // Blocks up to `duration` of real time for a ring; true when one was taken.
  bool WaitFor(std::chrono::nanoseconds duration);

 private:
  std::atomic<bool> rung_{false};
  std::mutex mu_;
  std::condition_variable changed_;
};

}  // namespace standby
