#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace standby {

enum class Compression : uint8_t { kNone = 0, kLz4 = 1, kZstd = 2 };

std::string_view CompressionName(Compression c);
Result<Compression> ParseCompression(std::string_view name);

// Compresses `raw` with `wanted` into *out and returns the method actually used: kNone when
// compressing would not save at least 1/32 of the size, and then the stored bytes are `raw`
// itself (*out holds no meaningful data). Thread-safe; reuse *out across calls.
Compression CompressChunk(std::string_view raw, Compression wanted, std::string* out);

// Reverses CompressChunk. kCorruption when the data does not decode to exactly raw_length.
Status DecompressChunk(std::string_view stored, Compression method, size_t raw_length,
                       std::string* out);

}  // namespace standby

namespace standby {

// Whole-object compression for manifests and index files: one zstd frame with its content
// size recorded. DecompressObject refuses frames over `max_size` bytes (kCorruption).
std::string CompressObject(std::string_view data);
Result<std::string> DecompressObject(std::string_view frame, size_t max_size = 1ULL << 32);

}  // namespace standby
