#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>

namespace standby {

// Randomness as the core logic sees it: identifiers (failover ids, race tags) and jitter
// (snapshot schedules, backoffs). Components take a Random* so a simulation replays exactly
// from one seed. Implementations are thread-safe.
class Random {
 public:
  virtual ~Random() = default;
  virtual uint64_t Next() = 0;

  // Uniform in [0, 1).
  double Uniform();
  // Uniform in [0, n); n > 0.
  uint64_t Below(uint64_t n);
  // `hex_chars` lowercase hexadecimal digits.
  std::string HexId(size_t hex_chars = 8);

  // Seeded once from the operating system. Never null; not owned by the caller.
  static Random* Real();
};

// A reproducible sequence from `seed` (mt19937_64).
class SeededRandom : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  uint64_t Next() override;

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;
};

}  // namespace standby
