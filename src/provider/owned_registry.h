#pragma once

#include <set>
#include <string>

#include "base/result.h"

namespace standby {

// The instances this controller keeps (provision winners until destroyed), per provider, in
// <state_dir>/owned-instances.json; changed under an flock so concurrent commands do not
// lose each other's entries. The reaper destroys labelled instances missing from it.
class OwnedRegistry {
 public:
  explicit OwnedRegistry(std::string state_dir);
  Status Add(const std::string& provider, const std::string& id, const std::string& label);
  Status Remove(const std::string& provider, const std::string& id);
  Result<std::set<std::string>> Owned(const std::string& provider) const;

 private:
  std::string path_;
};

}  // namespace standby
