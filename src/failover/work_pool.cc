#include "failover/work_pool.h"

namespace standby {

WorkPool::~WorkPool() {
  std::vector<Worker> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers.swap(workers_);
  }
  for (Worker& w : workers) w.thread.join();
}

bool WorkPool::TryRun(std::function<void()> task) {
  std::lock_guard<std::mutex> lock(mu_);
  if (running_ >= limit_) return false;
  ++running_;
  if (!parallel_) {
    mu_.unlock();
    task();
    mu_.lock();
    --running_;
    return true;
  }
  // Finished threads are joined as new ones start, so they never pile up.
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (*it->finished) {
      it->thread.join();  // it has only the unlock left to do
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  auto finished = std::make_shared<bool>(false);
  workers_.push_back({std::thread([this, finished, task = std::move(task)] {
                        task();
                        std::lock_guard<std::mutex> done(mu_);
                        --running_;
                        *finished = true;
                      }),
                      finished});
  return true;
}

}  // namespace standby
