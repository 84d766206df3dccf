#include "snapshot/hash.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "base/strings.h"

namespace standby {
namespace {

const EVP_MD* Sha256Md() {
  // Fetched once: an implicit fetch per call costs more than hashing a small chunk.
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) std::abort();
  return md;
}

}  // namespace

std::string Hash256::Hex() const { return HexEncode(View()); }

std::optional<Hash256> Hash256::FromHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto raw = HexDecode(hex);
  if (!raw) return std::nullopt;
  Hash256 out;
  std::memcpy(out.bytes.data(), raw->data(), 32);
  return out;
}

Hash256 Sha256(std::string_view data) {
  Hash256 out;
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.bytes.data(), &len, Sha256Md(), nullptr) != 1) {
    std::abort();
  }
  return out;
}

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr ||
      EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), Sha256Md(), nullptr) != 1) {
    std::abort();
  }
}

Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256Stream::Update(std::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

Hash256 Sha256Stream::Finish() {
  Hash256 out;
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), out.bytes.data(), &len);
  return out;
}

}  // namespace standby
