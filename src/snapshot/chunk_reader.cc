#include "snapshot/chunk_reader.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

namespace standby {

Result<uint64_t> ReadChunks(ReadableFile* file, uint64_t size_hint, const Chunker& chunker,
                            const std::function<Status(uint64_t, std::string_view)>& fn) {
  const size_t window = 2 * static_cast<size_t>(chunker.params().max_size);
  // One buffer per thread, reused across files: a fresh multi-MiB allocation per file costs
  // more in page faults than reading the file.
  thread_local std::unique_ptr<char[]> storage;
  thread_local size_t storage_size = 0;
  if (storage_size < window) {
    storage = std::make_unique_for_overwrite<char[]>(window);
    storage_size = window;
  }
  char* buffer = storage.get();
  size_t capacity = std::min<uint64_t>(size_hint + 1, window);
  size_t begin = 0;
  size_t end = 0;
  uint64_t read_offset = 0;   // file offset of the next read
  uint64_t chunk_offset = 0;  // file offset of buffer[begin]
  bool eof = false;
  while (true) {
    while (!eof && end < capacity) {
      ASSIGN_OR_RETURN(size_t got, file->ReadAt(read_offset, buffer + end, capacity - end));
      if (got == 0) eof = true;
      end += got;
      read_offset += got;
    }
    while (end - begin >= chunker.params().max_size || (eof && end > begin)) {
      size_t cut = chunker.FindCut(reinterpret_cast<const uint8_t*>(buffer) + begin, end - begin);
      RETURN_IF_ERROR(fn(chunk_offset, std::string_view(buffer + begin, cut)));
      begin += cut;
      chunk_offset += cut;
    }
    if (eof) return read_offset;
    std::memmove(buffer, buffer + begin, end - begin);
    end -= begin;
    begin = 0;
    capacity = window;  // the file may be larger than its hint
  }
}

}  // namespace standby
