#include "snapshot/pack.h"

#include <cstring>

namespace standby {
namespace {

constexpr std::string_view kPackMagic = "SBYPACK1";
constexpr size_t kEntrySize = 32 + 1 + 4 + 4;

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

uint64_t PackBuilder::Add(const Hash256& chunk_id, Compression compression, std::string_view stored,
                          uint32_t raw_length) {
  uint64_t offset = data_.size();
  data_.append(stored);
  blobs_.push_back(
      {chunk_id, compression, offset, static_cast<uint32_t>(stored.size()), raw_length});
  return offset;
}

FinishedPack PackBuilder::Finish() {
  std::string out = std::move(data_);
  const size_t trailer_start = out.size();
  out.reserve(out.size() + blobs_.size() * kEntrySize + 12);
  for (const PackBlob& blob : blobs_) {
    out.append(blob.chunk_id.View());
    out.push_back(static_cast<char>(blob.compression));
    PutU32(&out, blob.stored_length);
    PutU32(&out, blob.raw_length);
  }
  PutU32(&out, static_cast<uint32_t>(blobs_.size()));
  out.append(kPackMagic);
  data_.clear();
  blobs_.clear();
  Hash256 id = Sha256(std::string_view(out).substr(trailer_start));
  return {id, std::move(out)};
}

Result<Hash256> PackIdOf(std::string_view pack) {
  ASSIGN_OR_RETURN(auto blobs, ParsePackTrailer(pack));
  return Sha256(pack.substr(pack.size() - (blobs.size() * kEntrySize + 12)));
}

void PackBuilder::Recycle(std::string buffer) {
  if (!data_.empty() || buffer.capacity() <= data_.capacity()) return;
  buffer.clear();
  data_ = std::move(buffer);
}

Result<std::vector<PackBlob>> ParsePackTrailer(std::string_view pack) {
  if (pack.size() < 12 || pack.substr(pack.size() - 8) != kPackMagic) {
    return CorruptionError("pack has no trailer (truncated or not a pack)");
  }
  uint64_t count = GetU32(pack.data() + pack.size() - 12);
  uint64_t trailer = count * kEntrySize + 12;
  if (trailer > pack.size()) return CorruptionError("pack trailer claims more blobs than fit");
  const char* p = pack.data() + pack.size() - trailer;
  std::vector<PackBlob> blobs;
  uint64_t offset = 0;
  uint64_t data_end = pack.size() - trailer;
  for (uint64_t i = 0; i < count; ++i, p += kEntrySize) {
    PackBlob blob;
    std::memcpy(blob.chunk_id.bytes.data(), p, 32);
    uint8_t method = static_cast<uint8_t>(p[32]);
    if (method > 2) return CorruptionError("pack blob has an unknown compression");
    blob.compression = static_cast<Compression>(method);
    blob.stored_length = GetU32(p + 33);
    blob.raw_length = GetU32(p + 37);
    blob.offset = offset;
    offset += blob.stored_length;
    if (offset > data_end) return CorruptionError("pack blobs overrun the trailer");
    blobs.push_back(blob);
  }
  if (offset != data_end) return CorruptionError("pack data and trailer disagree in length");
  return blobs;
}

std::string PackKey(const std::string& instance_id, const Hash256& pack_id) {
  std::string hex = pack_id.Hex();
  return "packs/" + instance_id + "/" + hex.substr(0, 2) + "/" + hex;
}

}  // namespace standby
