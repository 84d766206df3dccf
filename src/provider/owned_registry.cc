#include "provider/owned_registry.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "env/clock.h"
#include "env/file_system.h"

namespace standby {
namespace {

using nlohmann::json;

// Runs `change` on the registry's JSON under an exclusive lock; writes it back when
// `write` is set.
Result<json> Locked(const std::string& path, bool write, const std::function<void(json&)>& change) {
  int fd = ::open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError(errno, "open " + path + ".lock");
  ::flock(fd, LOCK_EX);
  json registry = json::object();
  auto text = ReadFileToString(FileSystem::Real(), path);
  Status status = OkStatus();
  if (text) {
    try {
      registry = json::parse(*text);
    } catch (const std::exception& e) {
      status = CorruptionError(path + ": " + e.what());
    }
  } else if (text.error().code != ErrorCode::kNotFound) {
    status = text.error();
  }
  if (status) {
    change(registry);
    if (write)
      status = WriteFileAtomically(FileSystem::Real(), path, registry.dump(2) + "\n", 0600);
  }
  ::close(fd);
  if (!status) return status.error();
  return registry;
}

}  // namespace

OwnedRegistry::OwnedRegistry(std::string state_dir)
    : path_(JoinPath(state_dir, "owned-instances.json")) {
  MakeDirs(FileSystem::Real(), state_dir, 0700).IgnoreError();
}

Status OwnedRegistry::Add(const std::string& provider, const std::string& id,
                          const std::string& label) {
  return Locked(path_, true,
                [&](json& r) {
                  r[provider][id] = {{"label", label},
                                     {"since_unix_ms", Clock::Real()->Now() / 1'000'000}};
                })
      .transform([](auto&&) {});
}

Status OwnedRegistry::Remove(const std::string& provider, const std::string& id) {
  return Locked(path_, true,
                [&](json& r) {
                  if (r.contains(provider)) r[provider].erase(id);
                })
      .transform([](auto&&) {});
}

Result<std::set<std::string>> OwnedRegistry::Owned(const std::string& provider) const {
  ASSIGN_OR_RETURN(json r, Locked(path_, false, [](json&) {}));
  std::set<std::string> out;
  if (r.contains(provider)) {
    for (const auto& [id, entry] : r[provider].items()) out.insert(id);
  }
  return out;
}

}  // namespace standby
