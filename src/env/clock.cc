#include "env/clock.h"

#include <algorithm>
#include <thread>

namespace standby {
namespace {

class RealClock : public Clock {
 public:
  UnixNanos Now() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t MonotonicNanos() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void SleepFor(std::chrono::nanoseconds duration) override {
    std::this_thread::sleep_for(duration);
  }
};

}  // namespace

bool Clock::SleepUnless(std::chrono::nanoseconds duration, const std::atomic<bool>& stop,
                        std::chrono::nanoseconds step) {
  const int64_t deadline = MonotonicNanos() + duration.count();
  while (true) {
    if (stop.load()) return false;
    int64_t left = deadline - MonotonicNanos();
    if (left <= 0) return true;
    SleepFor(std::chrono::nanoseconds(std::min<int64_t>(left, step.count())));
  }
}

bool Clock::WaitUnless(std::chrono::nanoseconds duration, StopSignal& stop) {
  const int64_t deadline = MonotonicNanos() + duration.count();
  while (!stop.IsSet()) {
    int64_t left = deadline - MonotonicNanos();
    if (left <= 0) return true;
    if (stop.WaitFor(std::chrono::nanoseconds(left))) return false;
  }
  return false;
}

bool Clock::WaitForBell(std::chrono::nanoseconds duration, Doorbell& bell) {
  const int64_t deadline = MonotonicNanos() + duration.count();
  while (true) {
    if (bell.Take()) return true;
    int64_t left = deadline - MonotonicNanos();
    if (left <= 0) return false;
    if (bell.WaitFor(std::chrono::nanoseconds(left))) return true;
  }
}

Clock* Clock::Real() {
  static RealClock clock;
  return &clock;
}

UnixNanos FakeClock::Now() {
  std::lock_guard<std::mutex> lock(mu_);
  ++activity_;
  return now_;
}

int64_t FakeClock::MonotonicNanos() {
  std::lock_guard<std::mutex> lock(mu_);
  ++activity_;
  return monotonic_;
}

void FakeClock::AdvanceLocked(int64_t by_ns) {
  if (by_ns <= 0) return;
  now_ += by_ns;
  monotonic_ += by_ns;
  ++activity_;
  moved_.notify_all();
}

void FakeClock::Advance(std::chrono::nanoseconds duration) {
  std::lock_guard<std::mutex> lock(mu_);
  AdvanceLocked(duration.count());
}

size_t FakeClock::Sleepers() {
  std::lock_guard<std::mutex> lock(mu_);
  return deadlines_.size();
}

void FakeClock::SleepFor(std::chrono::nanoseconds duration) {
  std::unique_lock<std::mutex> lock(mu_);
  ++activity_;
  if (duration.count() <= 0) return;
  const int64_t deadline = monotonic_ + duration.count();
  auto mine = deadlines_.insert(deadline);
  moved_.notify_all();  // a new sleeper is activity: other sleepers restart their quiet wait
  while (monotonic_ < deadline) {
    if (!options_.auto_advance) {
      moved_.wait(lock);
      continue;
    }
    if (options_.quiet.count() > 0) {
      const uint64_t seen = activity_;
      moved_.wait_for(lock, options_.quiet);
      if (monotonic_ >= deadline || activity_ != seen) continue;
    }
    // Quiet: every thread that uses this clock is asleep (or not using it); wake the
    // earliest sleeper by moving time to its deadline.
    AdvanceLocked(*deadlines_.begin() - monotonic_);
  }
  deadlines_.erase(mine);
}

bool FakeClock::WaitUnless(std::chrono::nanoseconds duration, StopSignal& stop) {
  // Reads that are not activity: a passive waiter must not hold off the auto-advance.
  auto now = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    return monotonic_;
  };
  const int64_t deadline = now() + duration.count();
  while (!stop.IsSet()) {
    if (now() >= deadline) return true;
    // Passive: never moves time. A stop ends the wait at once (an owner releasing its lock
    // does not wait for a poll); time passing is seen within a slice.
    stop.WaitFor(std::chrono::milliseconds(5));
  }
  return false;
}

bool FakeClock::WaitForBell(std::chrono::nanoseconds duration, Doorbell& bell) {
  auto now = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    return monotonic_;
  };
  const int64_t deadline = now() + duration.count();
  while (true) {
    if (bell.Take()) return true;
    if (now() >= deadline) return false;
    if (bell.WaitFor(std::chrono::milliseconds(5))) return true;
  }
}

bool SleepUnlessStopped(Clock* clock, std::chrono::nanoseconds duration, const StopSignal* stop) {
  if (stop == nullptr) {
    clock->SleepFor(duration);
    return true;
  }
  constexpr std::chrono::nanoseconds kSlice = std::chrono::milliseconds(100);
  while (duration.count() > 0) {
    if (stop->IsSet()) return false;
    const std::chrono::nanoseconds step = std::min(duration, kSlice);
    clock->SleepFor(step);
    duration -= step;
  }
  return !stop->IsSet();
}

int64_t ElapsedMillis(Clock* clock, int64_t start_nanos) {
  return (clock->MonotonicNanos() - start_nanos) / 1'000'000;
}

int64_t NowMillis(Clock* clock) { return clock->Now() / 1'000'000; }

}  // namespace standby
