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

struct FinishedPack {
  Hash256 id;  // SHA-256 of the trailer
  std::string bytes;
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
  // Appends the trailer and returns the whole pack and its id; the builder is left empty.
  // The id is the SHA-256 of the trailer: the trailer lists every blob's chunk id (a hash of
  // its content), so it names the content without hashing the whole pack again.
  FinishedPack Finish();
  // Makes room for `bytes` of blobs and trailer without reallocating.
  void Reserve(size_t bytes) { data_.reserve(bytes); }
  // Gives the builder a buffer to fill next (its capacity is kept, its content dropped), so
  // pack buffers can be recycled instead of reallocated.
  void Recycle(std::string buffer);

 private:
  std::string data_;
  std::vector<PackBlob> blobs_;
};

// The id of a complete pack (kCorruption when it has no valid trailer).
Result<Hash256> PackIdOf(std::string_view pack);

// Parses the trailer of a complete pack (kCorruption when malformed).
Result<std::vector<PackBlob>> ParsePackTrailer(std::string_view pack);

// "packs/<instance>/<first two hex digits>/<pack id>". Each instance's packs live under its
// own name (repository format 2): a host writing one instance's snapshots can neither
// overwrite nor be handed another instance's packs, and two instances storing identical
// packs never collide.
std::string PackKey(const std::string& instance_id, const Hash256& pack_id);

}  // namespace standby
