#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>

#include "base/time.h"
#include "env/doorbell.h"
#include "env/stop_signal.h"

namespace standby {

// Time as the core logic sees it. Components take a Clock* so that tests advance a
// FakeClock instead of sleeping; nothing defaults to the real clock silently (option structs
// take the clock as a required field). Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (may jump); use for timestamps that are stored or shown.
  virtual UnixNanos Now() = 0;
  // Monotonic nanoseconds from an arbitrary origin; use for durations and deadlines.
  virtual int64_t MonotonicNanos() = 0;
  // Blocks until MonotonicNanos() has moved `duration` past its value at the call.
  virtual void SleepFor(std::chrono::nanoseconds duration) = 0;
  // SleepFor in steps of at most `step`, returning false as soon as `stop` is set (checked
  // before each step); true when the whole duration passed.
  virtual bool SleepUnless(std::chrono::nanoseconds duration, const std::atomic<bool>& stop,
                           std::chrono::nanoseconds step = std::chrono::milliseconds(100));
  // A background timer: blocks until `duration` has passed on this clock or `stop` is set
  // (at once on the real clock; within a few milliseconds on a FakeClock); false when
  // stopped. Unlike SleepFor, a FakeClock never moves time for it: it wakes when other
  // threads or the test have moved time far enough.
  virtual bool WaitUnless(std::chrono::nanoseconds duration, StopSignal& stop);
  // Blocks until `bell` rings (true, the ring taken) or `duration` passes on this clock
  // (false). Passive like WaitUnless: a FakeClock never moves time for it.
  virtual bool WaitForBell(std::chrono::nanoseconds duration, Doorbell& bell);

  // The process-wide real clock. Never null; not owned by the caller.
  static Clock* Real();
};

// A clock that moves only when told. Sleepers wake by deadline: SleepFor(d) blocks until the
// clock reaches (time of the call + d), so two threads sleeping 3 s and 5 s at once advance
// it by 5 s, not 8 s.
//
// Who moves it:
// - Advance() from the test, waking every sleeper whose deadline has passed;
// - with `auto_advance` (the default), the sleepers themselves: once no thread has touched
//   the clock (read it, slept, advanced) for `quiet` of real time, time jumps to the earliest
//   deadline. A thread doing more than `quiet` of real work without touching the clock can be
//   overtaken, so keep fakes fast. `quiet` = 0 jumps at once: only correct when a single
//   thread uses the clock (the deterministic simulation).
class FakeClock : public Clock {
 public:
  struct Options {
    bool auto_advance = true;
    std::chrono::microseconds quiet{2000};
  };
  explicit FakeClock(UnixNanos start = 1'700'000'000'000'000'000) : FakeClock(start, Options()) {}
  FakeClock(UnixNanos start, Options options) : options_(options), now_(start) {}

  UnixNanos Now() override;
  int64_t MonotonicNanos() override;
  void SleepFor(std::chrono::nanoseconds duration) override;
  bool WaitUnless(std::chrono::nanoseconds duration, StopSignal& stop) override;
  bool WaitForBell(std::chrono::nanoseconds duration, Doorbell& bell) override;
  void Advance(std::chrono::nanoseconds duration);
  // Threads blocked in SleepFor right now.
  size_t Sleepers();

 private:
  void AdvanceLocked(int64_t by_ns);

  const Options options_;
  std::mutex mu_;
  std::condition_variable moved_;
  UnixNanos now_;
  int64_t monotonic_ = 0;
  uint64_t activity_ = 0;  // bumped by every use of the clock
  std::multiset<int64_t> deadlines_;
};

// Milliseconds elapsed on `clock` since `start_nanos` (a MonotonicNanos() reading).
int64_t ElapsedMillis(Clock* clock, int64_t start_nanos);

// Sleeps `duration` on `clock`, in SleepFor slices of at most 100 ms while `stop` is given
// (so a stop is noticed within one slice, and a FakeClock still advances by itself; unlike
// WaitUnless). False when `stop` was set before the duration passed.
bool SleepUnlessStopped(Clock* clock, std::chrono::nanoseconds duration, const StopSignal* stop);
// Wall time in Unix milliseconds.
int64_t NowMillis(Clock* clock);

}  // namespace standby
