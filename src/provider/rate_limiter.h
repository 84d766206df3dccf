#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "env/clock.h"

namespace standby {

struct RateLimitOptions {
  // Minimum time between two requests of the account, whichever threads send them (the
  // seed's 200 ms).
  std::chrono::milliseconds min_spacing{200};
  // After a 429: pause everyone for first_backoff, doubling per consecutive 429 (1 s, 2 s,
  // 4 s …) up to max_backoff, each with ±jitter. Vast sends no Retry-After.
  std::chrono::milliseconds first_backoff{1000};
  std::chrono::milliseconds max_backoff{30000};
  double jitter = 0.2;
};

// One per provider account, shared by every thread that talks to it. Thread-safe.
class RateLimiter {
 public:
  RateLimiter(Clock* clock, RateLimitOptions options, uint64_t seed = 0x5eed);

  // Waits until the caller may send: `min_spacing` after the previous caller's turn and not
  // before a 429 pause ends. Turns are handed out in call order.
  int64_t AwaitTurn();
  // The request answered 429 (counted) or failed in a way worth backing off from (5xx,
  // transport; not counted): pauses every caller with the next backoff and returns it.
  std::chrono::milliseconds OnRateLimited(bool count_as_429 = true);
  // The request got through: the next 429 starts the backoff from first_backoff again.
  void OnSuccess();
  int64_t hits() const;

 private:
  Clock* clock_;
  RateLimitOptions options_;
  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  int64_t next_turn_ns_ = 0;
  int consecutive_ = 0;
  int64_t hits_ = 0;
};

// The process-wide limiter of an account ("vast:" + key fingerprint): every Provider object
// for the same account shares it.
std::shared_ptr<RateLimiter> SharedRateLimiter(const std::string& account, Clock* clock,
                                               const RateLimitOptions& options);

}  // namespace standby
