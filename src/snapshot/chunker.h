#pragma once

#include <cstddef>
#include <cstdint>

#include "base/result.h"

namespace standby {

// FastCDC parameters. avg must be a power of two; min < avg < max; max ≤ 16 MiB.
struct ChunkerParams {
  uint32_t min_size = 512 * 1024;
  uint32_t avg_size = 1024 * 1024;
  uint32_t max_size = 8 * 1024 * 1024;

  Status Validate() const;
  friend bool operator==(const ChunkerParams&, const ChunkerParams&) = default;
};

// Content-defined chunking with FastCDC (Xia et al. 2016): a Gear rolling hash over a fixed
// table, no cut before min_size, a strict mask (log2(avg)+2 high bits) before avg_size and a
// loose one (log2(avg)-2 high bits) after it, a forced cut at max_size. The table and masks
// are part of the repository format (docs/formats/repository.md). Stateless, thread-safe.
class Chunker {
 public:
  explicit Chunker(const ChunkerParams& params);

  // Length of the chunk that starts at data[0]. `len` must be ≥ max_size unless the data
  // ends within it (then the whole tail may become one chunk). Returns a value in [1, len].
  size_t FindCut(const uint8_t* data, size_t len) const;

  const ChunkerParams& params() const { return params_; }

  // The Gear table shared by every chunker (splitmix64 from a fixed seed).
  static const uint64_t* GearTable();

 private:
  ChunkerParams params_;
  uint64_t mask_strict_;
  uint64_t mask_loose_;
};

}  // namespace standby
