#include "remote/host_keys.h"

#include <sstream>

namespace standby {
namespace {

// Pin names become file names: keep [A-Za-z0-9._-], escape the rest as %XX.
std::string FileNameFor(const std::string& name) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (out.empty() || out[0] == '.') out = "%" + out;
  return out;
}

}  // namespace

HostKeyPins::HostKeyPins(FileSystem* fs, std::string state_dir)
    : fs_(fs), dir_(JoinPath(JoinPath(state_dir, "ssh"), "host_keys")) {}

std::string HostKeyPins::PathFor(const std::string& name) const {
  return JoinPath(dir_, FileNameFor(name));
}

Status HostKeyPins::Check(const std::string& name, const HostKey& key) {
  std::string path = PathFor(name);
  auto pinned = ReadFileToString(fs_, path);
  if (!pinned) {
    if (pinned.error().code != ErrorCode::kNotFound) return pinned.error();
    RETURN_IF_ERROR(MakeDirs(fs_, dir_, 0700));
    return WriteFileAtomically(fs_, path,
                               key.type + " " + key.base64 + " " + key.fingerprint + "\n", 0600);
  }
  std::istringstream fields(*pinned);
  std::string type, base64, fingerprint;
  fields >> type >> base64 >> fingerprint;
  if (type == key.type && base64 == key.base64) return OkStatus();
  return PermissionDeniedError(
      "host key of " + name + " changed: pinned " + fingerprint + ", offered " + key.fingerprint +
      "; refusing to connect (if the host was really replaced, remove " + path + ")");
}

Status HostKeyPins::Forget(const std::string& name) {
  auto removed = fs_->RemoveFile(PathFor(name));
  if (!removed && removed.error().code != ErrorCode::kNotFound) return removed.error();
  return OkStatus();
}

}  // namespace standby
