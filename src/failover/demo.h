#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"

namespace standby {

struct DemoOptions {
  std::string dir;  // state, repository and market hosts live here
  uint64_t workspace_bytes = 256ull << 20;
  // Human output, one line at a time; `pause` (interactive runs) waits before a step.
  std::function<void(const std::string&)> say;
  std::function<void(const std::string&)> pause;
};

// `make demo`: a real failover on the embedded defaults (the local simulated market with
// real sshd hosts, a directory store, SQLite), run by the same Controller as `standby
// serve`. It rents a host, generates a GPU-like workspace there, protects it with an
// inference stand-in as its workload, lets the periodic scheduler take a full and an
// incremental snapshot, kills the host, and waits for the controller to detect, race,
// restore, validate, restart and check. The new host must answer the same question as the
// old one (the SHA-256 of every weight shard); the demo prints the controller's timeline
// and the MTTR table beside the seed's 107.9 s, destroys everything, and fails on any
// mismatch or leaked instance. Returns its summary.
Result<nlohmann::json> RunDemo(const DemoOptions& options);

}  // namespace standby
