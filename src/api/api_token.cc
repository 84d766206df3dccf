#include "api/api_token.h"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/strings.h"
#include "env/file_system.h"

namespace standby {
namespace {

constexpr size_t kTokenBytes = 32;

Result<std::string> WriteNewToken(const std::string& state_dir) {
  RETURN_IF_ERROR(EnsurePrivateDirectory(state_dir));
  std::string token = RandomHex(kTokenBytes);
  RETURN_IF_ERROR(
      WriteFileAtomically(FileSystem::Real(), ApiTokenPath(state_dir), token + "\n", 0600));
  return token;
}

}  // namespace

std::string ApiTokenPath(const std::string& state_dir) { return JoinPath(state_dir, "api-token"); }

Result<std::string> LoadOrCreateApiToken(const std::string& state_dir) {
  const std::string path = ApiTokenPath(state_dir);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return ErrnoError(errno, "stat " + path);
    return WriteNewToken(state_dir);
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%03o", st.st_mode & 0777);
    return PermissionDeniedError(path + " can be read by others (mode " + mode +
                                 "); run `chmod 600 " + path +
                                 "` and `standby token rotate`, as the token may have leaked");
  }
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(FileSystem::Real(), path));
  std::string token(TrimWhitespace(text));
  if (token.size() != 2 * kTokenBytes || !HexDecode(token)) {
    return CorruptionError(path + " does not hold a token; run `standby token rotate`");
  }
  return token;
}

Result<std::string> RotateApiToken(const std::string& state_dir) {
  return WriteNewToken(state_dir);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;  // the length of a token is no secret
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace standby
