#include "provider/rate_limiter.h"

#include <algorithm>
#include <map>

namespace standby {

RateLimiter::RateLimiter(Clock* clock, RateLimitOptions options, uint64_t seed)
    : clock_(clock), options_(options), rng_(seed) {}

int64_t RateLimiter::AwaitTurn() {
  int64_t wait_ns = 0, turn = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t now = clock_->MonotonicNanos();
    turn = std::max(now, next_turn_ns_);
    next_turn_ns_ = turn + std::chrono::nanoseconds(options_.min_spacing).count();
    wait_ns = turn - now;
  }
  if (wait_ns > 0) clock_->SleepFor(std::chrono::nanoseconds(wait_ns));
  return turn;
}

std::chrono::milliseconds RateLimiter::OnRateLimited(bool count_as_429) {
  std::lock_guard<std::mutex> lock(mu_);
  if (count_as_429) ++hits_;
  double base = static_cast<double>(options_.first_backoff.count()) *
                static_cast<double>(1LL << std::min(consecutive_, 20));
  base = std::min(base, static_cast<double>(options_.max_backoff.count()));
  ++consecutive_;
  std::uniform_real_distribution<double> jitter(1 - options_.jitter, 1 + options_.jitter);
  auto backoff = std::chrono::milliseconds(static_cast<int64_t>(base * jitter(rng_)));
  backoff = std::min(backoff, options_.max_backoff);
  int64_t resume = clock_->MonotonicNanos() + std::chrono::nanoseconds(backoff).count();
  next_turn_ns_ = std::max(next_turn_ns_, resume);
  return backoff;
}

void RateLimiter::OnSuccess() {
  std::lock_guard<std::mutex> lock(mu_);
  consecutive_ = 0;
}

int64_t RateLimiter::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

std::shared_ptr<RateLimiter> SharedRateLimiter(const std::string& account, Clock* clock,
                                               const RateLimitOptions& options) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<RateLimiter>> limiters;
  std::lock_guard<std::mutex> lock(mu);
  if (auto existing = limiters[account].lock()) return existing;
  auto limiter = std::make_shared<RateLimiter>(clock, options);
  limiters[account] = limiter;
  return limiter;
}

}  // namespace standby
