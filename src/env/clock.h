#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

#include "base/time.h"

namespace standby {

// Time as the core logic sees it. Components take a Clock* so that tests advance a
// FakeClock instead of sleeping. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (may jump); use for timestamps that are stored or shown.
  virtual UnixNanos Now() = 0;
  // Monotonic nanoseconds from an arbitrary origin; use for durations and deadlines.
  virtual int64_t MonotonicNanos() = 0;
  virtual void SleepFor(std::chrono::nanoseconds duration) = 0;

  // The process-wide real clock. Never null; not owned by the caller.
  static Clock* Real();
};

// A clock that moves only when told: Advance(), or SleepFor() (which advances instantly).
class FakeClock : public Clock {
 public:
  explicit FakeClock(UnixNanos start = 1'700'000'000'000'000'000) : now_(start) {}
  UnixNanos Now() override;
  int64_t MonotonicNanos() override;
  void SleepFor(std::chrono::nanoseconds duration) override { Advance(duration); }
  void Advance(std::chrono::nanoseconds duration);

 private:
  std::mutex mu_;
  UnixNanos now_;
  int64_t monotonic_ = 0;
};

// Milliseconds elapsed on `clock` since `start_nanos` (a MonotonicNanos() reading).
int64_t ElapsedMillis(Clock* clock, int64_t start_nanos);

}  // namespace standby
