#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "env/executor.h"

namespace standby {

// At most `limit` tasks at once, each spawned on `executor` (periodic snapshots across
// instances: max_concurrent_snapshots). The destructor waits for running tasks.
class WorkPool {
 public:
  WorkPool(size_t limit, Executor* executor) : limit_(limit), executor_(executor) {}
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Starts `task` unless `limit` tasks run already (then false: try again later).
  bool TryRun(std::function<void()> task);
  // Waits for every task started so far.
  void JoinAll();

 private:
  const size_t limit_;
  Executor* executor_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Executor::Task>> tasks_;
};

}  // namespace standby
