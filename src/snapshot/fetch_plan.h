#pragma once

#include <cstdint>
#include <vector>

#include "snapshot/manifest.h"

namespace standby {

// A ranged GET covering chunks stored close together in one pack.
struct FetchRange {
  Hash256 pack;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::vector<uint32_t> chunks;  // indices into the chunk table, in pack order
};

// Groups the `wanted` chunks (indices into `chunks`) into ranged GETs: one pack per range,
// neighbours merged while the gap between them is ≤ 256 KiB and the range stays ≤ 8 MiB
// (a single larger chunk gets a range of its own).
std::vector<FetchRange> PlanFetchRanges(const std::vector<ChunkRef>& chunks,
                                        const std::vector<uint32_t>& wanted);

}  // namespace standby
