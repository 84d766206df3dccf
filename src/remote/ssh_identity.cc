#include "remote/ssh_identity.h"

#include <libssh/libssh.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include "env/host_info.h"

namespace standby {
namespace {

struct KeyDeleter {
  void operator()(ssh_key key) const { ssh_key_free(key); }
};
using KeyPtr = std::unique_ptr<ssh_key_struct, KeyDeleter>;

Result<std::string> AuthorizedKeyLine(ssh_key key, const std::string& comment) {
  char* base64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &base64) != SSH_OK) {
    return InternalError("cannot export an SSH public key");
  }
  std::string line = std::string(ssh_key_type_to_char(ssh_key_type(key))) + " " + base64;
  ssh_string_free_char(base64);
  if (!comment.empty()) line += " " + comment;
  return line;
}

}  // namespace

Result<std::string> PublicKeyOf(const std::string& private_key_path) {
  ssh_key raw = nullptr;
  if (ssh_pki_import_privkey_file(private_key_path.c_str(), nullptr, nullptr, nullptr, &raw) !=
      SSH_OK) {
    return PermissionDeniedError("cannot read SSH private key " + private_key_path +
                                 " (missing, unreadable, not a private key, or passphrase-"
                                 "protected)");
  }
  KeyPtr key(raw);
  return AuthorizedKeyLine(key.get(), "");
}

Result<SshIdentity> EnsureControllerKey(FileSystem* fs, const std::string& state_dir) {
  std::string dir = JoinPath(state_dir, "ssh");
  RETURN_IF_ERROR(EnsurePrivateDirectory(state_dir));
  RETURN_IF_ERROR(MakeDirs(fs, dir, 0700));
  SshIdentity identity;
  identity.private_key_path = JoinPath(dir, "id_ed25519");
  if (auto existing = fs->Lstat(identity.private_key_path); existing) {
    if (existing->mode & 077) {
      char mode[16];
      std::snprintf(mode, sizeof(mode), "%o", existing->mode);
      return PermissionDeniedError("SSH key " + identity.private_key_path +
                                   " is open to other users (mode " + mode + "); chmod 600 it");
    }
    ASSIGN_OR_RETURN(identity.public_key, PublicKeyOf(identity.private_key_path));
    return identity;
  }
  ssh_key raw = nullptr;
  if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &raw) != SSH_OK) {
    return InternalError("cannot generate an ed25519 key");
  }
  KeyPtr key(raw);
  char* pem = nullptr;
  if (ssh_pki_export_privkey_base64(key.get(), nullptr, nullptr, nullptr, &pem) != SSH_OK) {
    return InternalError("cannot encode the new SSH key");
  }
  std::string private_text(pem);
  ssh_string_free_char(pem);
  ASSIGN_OR_RETURN(identity.public_key, AuthorizedKeyLine(key.get(), "standby@" + LocalHostname()));
  RETURN_IF_ERROR(WriteFileAtomically(fs, identity.private_key_path + ".pub",
                                      identity.public_key + "\n", 0644));
  RETURN_IF_ERROR(WriteFileAtomically(fs, identity.private_key_path, private_text, 0600));
  return identity;
}

}  // namespace standby
