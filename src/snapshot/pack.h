#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "snapshot/compression.h"
#include "snapshot/hash.h"

namespace standby {

// One blob (a stored chunk) inside a pack.
struct PackBlob {
  Hash256 chunk_id;  // SHA-256 of the uncompressed chunk
  Compression compression = Compression::kNone;
  uint64_t offset = 0;  // of the stored bytes within the pack
  uint32_t stored_length = 0;
  uint32_t raw_length = 0;
};

// Builds a pack: blobs back to back, then a trailer that lists them, so a pack alone is
// enough to rebuild the index (docs/formats/repository.md). Not thread-safe.
class PackBuilder {
 public:
  // Appends a stored blob; returns its offset in the pack.
  uint64_t Add(const Hash256& chunk_id, Compression compression, std::string_view stored,
               uint32_t raw_length);
  size_t size() const { return data_.size(); }
  bool empty() const { return blobs_.empty(); }
  const std::vector<PackBlob>& blobs() const { return blobs_; }
  // Appends the trailer and returns the whole pack; the builder is left empty.
  std::string Finish();

 private:
  std::string data_;
  std::vector<PackBlob> blobs_;
};

// Parses the trailer of a complete pack (kCorruption when malformed).
Result<std::vector<PackBlob>> ParsePackTrailer(std::string_view pack);

// The store key of a pack: "packs/<first two hex digits>/<64 hex digits>".
std::string PackKey(const Hash256& pack_id);

}  // namespace standby
