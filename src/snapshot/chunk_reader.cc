#include "snapshot/chunk_reader.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace standby {

Result<uint64_t> ReadChunks(ReadableFile* file, uint64_t size_hint, const Chunker& chunker,
                            const std::function<Status(uint64_t, std::string_view)>& fn) {
  const size_t window = 2 * static_cast<size_t>(chunker.params().max_size);
  std::string buffer(std::min<uint64_t>(size_hint + 1, window), '\0');
  size_t begin = 0;
  size_t end = 0;
  uint64_t read_offset = 0;   // file offset of the next read
  uint64_t chunk_offset = 0;  // file offset of buffer[begin]
  bool eof = false;
  while (true) {
    while (!eof && end < buffer.size()) {
      ASSIGN_OR_RETURN(size_t got,
                       file->ReadAt(read_offset, buffer.data() + end, buffer.size() - end));
      if (got == 0) eof = true;
      end += got;
      read_offset += got;
    }
    while (end - begin >= chunker.params().max_size || (eof && end > begin)) {
      size_t cut =
          chunker.FindCut(reinterpret_cast<const uint8_t*>(buffer.data()) + begin, end - begin);
      RETURN_IF_ERROR(fn(chunk_offset, std::string_view(buffer.data() + begin, cut)));
      begin += cut;
      chunk_offset += cut;
    }
    if (eof) return read_offset;
    std::memmove(buffer.data(), buffer.data() + begin, end - begin);
    end -= begin;
    begin = 0;
    if (buffer.size() < window) buffer.resize(window);  // the file is larger than its hint
  }
}

}  // namespace standby
