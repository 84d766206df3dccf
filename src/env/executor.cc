#include "env/executor.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>
#include <vector>

#include "base/strings.h"

namespace standby {
namespace {

class ThreadTask : public Executor::Task {
 public:
  ThreadTask(std::string name, std::function<void()> fn)
      : thread_([this, name = std::move(name), fn = std::move(fn)] {
          // An exception must not reach std::terminate and end every instance's protection:
          // the loops guard their passes (ControllerContext::Guarded); this is the last net.
          try {
            fn();
          } catch (const std::exception& e) {
            spdlog::error("task {} ended by an unexpected error: {}", name,
                          EscapeControl(e.what()));
          } catch (...) {
            spdlog::error("task {} ended by an unexpected error", name);
          }
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
    return std::make_unique<ThreadTask>(std::move(name), std::move(fn));
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
