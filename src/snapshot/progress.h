#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "env/clock.h"

namespace standby {

struct ProgressEvent {
  int percent = 0;
  uint64_t done = 0;
  uint64_t total = 0;
  double bytes_per_second = 0;
};

// Reports transfer progress at every 10% as "<label>: 45% (450MB/1GB) - 12MB/s", through
// `sink` (one line per call, without newline), and as numbers through `events`. Either may
// be empty. Thread-safe.
class ProgressReporter {
 public:
  ProgressReporter(std::string label, uint64_t total_bytes, Clock* clock,
                   std::function<void(const std::string&)> sink,
                   std::function<void(const ProgressEvent&)> events = nullptr);

  void Add(uint64_t bytes);
  uint64_t done() const;

 private:
  std::string label_;
  uint64_t total_;
  Clock* clock_;
  std::function<void(const std::string&)> sink_;
  std::function<void(const ProgressEvent&)> events_;
  int64_t start_nanos_;
  mutable std::mutex mu_;
  uint64_t done_ = 0;
  int next_decile_ = 1;
};

}  // namespace standby
