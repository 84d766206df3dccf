#include "env/executor.h"

#include <atomic>
#include <thread>
#include <vector>

namespace standby {
namespace {

class ThreadTask : public Executor::Task {
 public:
  explicit ThreadTask(std::function<void()> fn)
      : thread_([this, fn = std::move(fn)] {
          fn();
          done_ = true;
        }) {}
  ~ThreadTask() override { Join(); }
  void Join() override {
    if (thread_.joinable()) thread_.join();
  }
  bool Done() const override { return done_.load(); }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;  // last: started once done_ exists
};

class ThreadExecutor : public Executor {
 public:
  std::unique_ptr<Task> Spawn(std::string name, std::function<void()> fn) override {
    (void)name;
    return std::make_unique<ThreadTask>(std::move(fn));
  }
};

}  // namespace

Executor* Executor::Threads() {
  static ThreadExecutor threads;
  return &threads;
}

void RunEach(Executor* executor, const std::string& name, size_t count,
             const std::function<void(size_t)>& fn) {
  if (count == 1) return fn(0);
  std::vector<std::unique_ptr<Executor::Task>> tasks;
  tasks.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    tasks.push_back(executor->Spawn(name + "#" + std::to_string(i), [&fn, i] { fn(i); }));
  }
  for (auto& task : tasks) task->Join();
}

}  // namespace standby
