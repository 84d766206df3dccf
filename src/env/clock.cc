#include "env/clock.h"

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

Clock* Clock::Real() {
  static RealClock clock;
  return &clock;
}

UnixNanos FakeClock::Now() {
  std::lock_guard<std::mutex> lock(mu_);
  return now_;
}

int64_t FakeClock::MonotonicNanos() {
  std::lock_guard<std::mutex> lock(mu_);
  return monotonic_;
}

void FakeClock::Advance(std::chrono::nanoseconds duration) {
  std::lock_guard<std::mutex> lock(mu_);
  now_ += duration.count();
  monotonic_ += duration.count();
}

int64_t ElapsedMillis(Clock* clock, int64_t start_nanos) {
  return (clock->MonotonicNanos() - start_nanos) / 1'000'000;
}

}  // namespace standby
