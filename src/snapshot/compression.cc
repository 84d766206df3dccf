#include "snapshot/compression.h"

#include <lz4.h>
#include <zstd.h>

namespace standby {

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kLz4:
      return "lz4";
    case Compression::kZstd:
      return "zstd";
  }
  return "none";
}

Result<Compression> ParseCompression(std::string_view name) {
  if (name == "none") return Compression::kNone;
  if (name == "lz4") return Compression::kLz4;
  if (name == "zstd") return Compression::kZstd;
  return InvalidArgumentError("unknown compression \"" + std::string(name) +
                              "\" (expected lz4, zstd or none)");
}

Compression CompressChunk(std::string_view raw, Compression wanted, std::string* out) {
  size_t worth_it = raw.size() - raw.size() / 32;
  if (wanted == Compression::kLz4 && raw.size() <= static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) {
    out->resize(static_cast<size_t>(LZ4_compressBound(static_cast<int>(raw.size()))));
    int got = LZ4_compress_default(raw.data(), out->data(), static_cast<int>(raw.size()),
                                   static_cast<int>(out->size()));
    if (got > 0 && static_cast<size_t>(got) < worth_it) {
      out->resize(static_cast<size_t>(got));
      return Compression::kLz4;
    }
  } else if (wanted == Compression::kZstd) {
    out->resize(ZSTD_compressBound(raw.size()));
    size_t got = ZSTD_compress(out->data(), out->size(), raw.data(), raw.size(), 1);
    if (!ZSTD_isError(got) && got < worth_it) {
      out->resize(got);
      return Compression::kZstd;
    }
  }
  return Compression::kNone;
}

Status DecompressChunk(std::string_view stored, Compression method, size_t raw_length,
                       std::string* out) {
  out->resize(raw_length);
  switch (method) {
    case Compression::kNone:
      if (stored.size() != raw_length) return CorruptionError("stored chunk has the wrong length");
      out->assign(stored);
      return OkStatus();
    case Compression::kLz4: {
      int got = LZ4_decompress_safe(stored.data(), out->data(), static_cast<int>(stored.size()),
                                    static_cast<int>(raw_length));
      if (got < 0 || static_cast<size_t>(got) != raw_length) {
        return CorruptionError("lz4 chunk does not decode");
      }
      return OkStatus();
    }
    case Compression::kZstd: {
      size_t got = ZSTD_decompress(out->data(), raw_length, stored.data(), stored.size());
      if (ZSTD_isError(got) || got != raw_length)
        return CorruptionError("zstd chunk does not decode");
      return OkStatus();
    }
  }
  return CorruptionError("unknown chunk compression");
}

}  // namespace standby

namespace standby {

std::string CompressObject(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t got = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  if (ZSTD_isError(got)) std::abort();  // only possible with a too-small buffer
  out.resize(got);
  return out;
}

Result<std::string> DecompressObject(std::string_view frame, size_t max_size) {
  unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    return CorruptionError("not a zstd frame with a recorded size (truncated or damaged)");
  }
  // Manifests and indexes are mostly hashes: they never shrink 64-fold. A frame that claims
  // to is a decompression bomb, refused before anything is allocated.
  constexpr size_t kMaxRatio = 64, kAlwaysAllowed = 16 << 20;
  if (size > max_size || size > std::max(kAlwaysAllowed, frame.size() * kMaxRatio)) {
    return CorruptionError("compressed object claims an implausible size (" + std::to_string(size) +
                           " bytes from " + std::to_string(frame.size()) + ")");
  }
  std::string out(static_cast<size_t>(size), '\0');
  size_t got = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(got) || got != size) {
    return CorruptionError(std::string("compressed object does not decode (") +
                           (ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short") + ")");
  }
  return out;
}

}  // namespace standby
