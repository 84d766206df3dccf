#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "config/config.h"

namespace standby {

struct ServeOptions {
  std::function<void(const std::string&)> log;  // one line per decision
};

// `standby serve`: opens the controller runtime from the configuration and runs the
// controller until `stop` (failover/controller.h). Returns after every failover in flight
// was persisted at a safe point.
Status Serve(const Config& config, const ServeOptions& options, const std::atomic<bool>& stop);

}  // namespace standby
