#include "env/random.h"

#include <cmath>

namespace standby {

double Random::Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

uint64_t Random::Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }

std::string Random::HexId(size_t hex_chars) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(hex_chars);
  uint64_t bits = 0;
  for (size_t i = 0; i < hex_chars; ++i) {
    if (i % 16 == 0) bits = Next();
    out.push_back(kDigits[bits & 0xf]);
    bits >>= 4;
  }
  return out;
}

uint64_t SeededRandom::Next() {
  std::lock_guard<std::mutex> lock(mu_);
  return engine_();
}

Random* Random::Real() {
  static SeededRandom random((static_cast<uint64_t>(std::random_device{}()) << 32) ^
                             std::random_device{}());
  return &random;
}

}  // namespace standby
