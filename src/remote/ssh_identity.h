#pragma once

#include <string>

#include "base/result.h"
#include "env/file_system.h"

namespace standby {

// The controller's own SSH key: ed25519, generated on first use under
// <state_dir>/ssh/id_ed25519 (mode 0600, directory 0700) with its public half beside it in
// id_ed25519.pub, for registering with a provider or a host's authorized_keys.
struct SshIdentity {
  std::string private_key_path;
  std::string public_key;  // "ssh-ed25519 AAAA... standby@<hostname>"
};

Result<SshIdentity> EnsureControllerKey(FileSystem* fs, const std::string& state_dir);

// The public half of an existing private key file (OpenSSH format), as an authorized_keys
// line.
Result<std::string> PublicKeyOf(const std::string& private_key_path);

}  // namespace standby
