#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace standby {

// A SHA-256 digest. Chunk ids, pack ids and content hashes are all Hash256.
struct Hash256 {
  std::array<uint8_t, 32> bytes{};

  std::string Hex() const;
  std::string_view View() const {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
  static std::optional<Hash256> FromHex(std::string_view hex);
  friend bool operator==(const Hash256& a, const Hash256& b) { return a.bytes == b.bytes; }
  friend bool operator<(const Hash256& a, const Hash256& b) { return a.bytes < b.bytes; }
};

struct Hash256Hasher {
  size_t operator()(const Hash256& h) const {
    size_t out;
    std::memcpy(&out, h.bytes.data(), sizeof(out));
    return out;
  }
};

// SHA-256 through OpenSSL (SHA-NI where the CPU has it). Thread-safe.
Hash256 Sha256(std::string_view data);

// Incremental SHA-256. Not thread-safe.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  Hash256 Finish();

 private:
  void* ctx_;  // EVP_MD_CTX
};

}  // namespace standby
