#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "base/result.h"
#include "env/file_system.h"
#include "snapshot/chunker.h"

namespace standby {

// Reads `file` from offset 0 to its end, cutting the bytes with `chunker`, and calls
// fn(offset, chunk) for each chunk in order. Holds at most 2 × max chunk size in memory
// (less for files smaller than that, by `size_hint`). Returns the number of bytes read; the
// first error from reading or from `fn` stops the walk.
Result<uint64_t> ReadChunks(ReadableFile* file, uint64_t size_hint, const Chunker& chunker,
                            const std::function<Status(uint64_t, std::string_view)>& fn);

}  // namespace standby
