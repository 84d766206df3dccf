#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace standby {

// At most `limit` tasks at once, each on its own thread (periodic snapshots across
// instances: max_concurrent_snapshots). Without `parallel`, a task runs at once on the
// caller's thread (the deterministic simulation). The destructor waits for running tasks.
class WorkPool {
 public:
  WorkPool(size_t limit, bool parallel) : limit_(limit), parallel_(parallel) {}
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Starts `task` unless `limit` tasks run already (then false: try again later).
  bool TryRun(std::function<void()> task);

 private:
  const size_t limit_;
  const bool parallel_;
  mutable std::mutex mu_;
  size_t running_ = 0;
  struct Worker {
    std::thread thread;
    std::shared_ptr<bool> finished;  // under mu_
  };
  std::vector<Worker> workers_;
};

}  // namespace standby
