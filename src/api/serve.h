#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "config/config.h"

namespace standby {

struct ServeOptions {
  std::function<void(const std::string&)> log;  // one line per decision
  // Once the API listens: its URL, the token file's path and the token (serve prints the
  // dashboard's address with the token only to a terminal, never to a log).
  std::function<void(const std::string& url, const std::string& token_path,
                     const std::string& token)>
      on_listening;
};

// `standby serve`: opens the controller runtime from the configuration, starts the HTTP API
// (api.listen; "off" serves none) and runs the controller until `stop`
// (failover/controller.h). Returns after every failover in flight was persisted at a safe
// point; the API stops with it.
Status Serve(const Config& config, const ServeOptions& options, const std::atomic<bool>& stop);

}  // namespace standby
