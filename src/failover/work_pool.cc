#include "failover/work_pool.h"

namespace standby {

WorkPool::~WorkPool() { JoinAll(); }

void WorkPool::JoinAll() {
  std::vector<std::unique_ptr<Executor::Task>> tasks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks.swap(tasks_);
  }
  for (auto& t : tasks) t->Join();
}

bool WorkPool::TryRun(std::function<void()> task) {
  std::lock_guard<std::mutex> lock(mu_);
  // Finished tasks are joined as new ones start, so they never pile up.
  std::erase_if(tasks_, [](const std::unique_ptr<Executor::Task>& t) {
    if (!t->Done()) return false;
    t->Join();  // it has returned: no wait
    return true;
  });
  if (tasks_.size() >= limit_) return false;
  tasks_.push_back(executor_->Spawn("snapshot", std::move(task)));
  return true;
}

}  // namespace standby
