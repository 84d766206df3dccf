#include "snapshot/chunker.h"

#include <algorithm>
#include <array>
#include <bit>
#include <string>

namespace standby {
namespace {

constexpr uint64_t kGearSeed = 0x5374616e64627931ULL;  // "Standby1"

std::array<uint64_t, 256> MakeGearTable() {
  std::array<uint64_t, 256> table{};
  uint64_t state = kGearSeed;
  for (auto& value : table) {
    // splitmix64
    state += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    value = z ^ (z >> 31);
  }
  return table;
}

uint64_t HighBitsMask(int bits) {
  if (bits <= 0) return 0;
  if (bits >= 64) return ~0ULL;
  return ~0ULL << (64 - bits);
}

}  // namespace

Status ChunkerParams::Validate() const {
  if (!std::has_single_bit(avg_size) || avg_size < 256) {
    return InvalidArgumentError("chunker avg_size must be a power of two ≥ 256, got " +
                                std::to_string(avg_size));
  }
  if (!(min_size >= 64 && min_size < avg_size && avg_size < max_size)) {
    return InvalidArgumentError("chunker sizes must satisfy 64 ≤ min < avg < max");
  }
  if (max_size > 16 * 1024 * 1024) {
    return InvalidArgumentError("chunker max_size must be ≤ 16 MiB");
  }
  return OkStatus();
}

const uint64_t* Chunker::GearTable() {
  static const std::array<uint64_t, 256> table = MakeGearTable();
  return table.data();
}

Chunker::Chunker(const ChunkerParams& params) : params_(params) {
  int avg_bits = std::countr_zero(params.avg_size);
  mask_strict_ = HighBitsMask(avg_bits + 2);
  mask_loose_ = HighBitsMask(avg_bits - 2);
}

size_t Chunker::FindCut(const uint8_t* data, size_t len) const {
  if (len <= params_.min_size) return len;
  const uint64_t* gear = GearTable();
  size_t end = std::min<size_t>(len, params_.max_size);
  size_t normal = std::min<size_t>(end, params_.avg_size);
  uint64_t hash = 0;
  size_t i = params_.min_size;
  for (; i < normal; ++i) {
    hash = (hash << 1) + gear[data[i]];
    if ((hash & mask_strict_) == 0) return i + 1;
  }
  for (; i < end; ++i) {
    hash = (hash << 1) + gear[data[i]];
    if ((hash & mask_loose_) == 0) return i + 1;
  }
  return end;
}

}  // namespace standby
