#include "provider/provider.h"

namespace standby {

std::string_view InstanceStateName(InstanceState state) {
  switch (state) {
    case InstanceState::kLoading:
      return "loading";
    case InstanceState::kRunning:
      return "running";
    case InstanceState::kExited:
      return "exited";
    case InstanceState::kOffline:
      return "offline";
    case InstanceState::kUnknown:
      return "unknown";
  }
  return "unknown";
}

}  // namespace standby
