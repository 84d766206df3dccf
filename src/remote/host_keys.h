#pragma once

#include <string>

#include "base/result.h"
#include "env/file_system.h"

namespace standby {

// A server's host key as seen during a handshake.
struct HostKey {
  std::string type;         // "ssh-ed25519", "ecdsa-sha2-nistp256", …
  std::string base64;       // the public key blob
  std::string fingerprint;  // "SHA256:…" as OpenSSH prints it
};

// Trust on first use, pinned per name: the first key seen for a name (an instance id, or
// "host:port" when there is none) is recorded under <state_dir>/ssh/host_keys/<name>; a
// later, different key for that name is refused. Forget() is for an instance that was
// legitimately replaced (a new rental gets a new instance id, so this is rarely needed).
class HostKeyPins {
 public:
  HostKeyPins(FileSystem* fs, std::string state_dir);

  // OK when `key` is the pinned one or nothing was pinned yet (then it is pinned now);
  // kPermissionDenied naming both fingerprints when it differs.
  Status Check(const std::string& name, const HostKey& key);
  Status Forget(const std::string& name);
  std::string PathFor(const std::string& name) const;

 private:
  FileSystem* fs_;
  std::string dir_;
};

}  // namespace standby
