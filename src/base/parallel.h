#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "base/result.h"

namespace standby {

// Runs fn(0..count-1) on `threads` threads. Stops handing out new indices after the first
// error and returns that error; returns OK when every call succeeded.
Status ParallelFor(size_t count, size_t threads, const std::function<Status(size_t)>& fn);

// A fixed set of worker threads running submitted tasks, with at most `max_queued` tasks
// waiting: Submit() blocks while the queue is full, which bounds the memory tasks hold.
// The first failing task's error is kept; later Submit() calls are dropped and Wait()
// returns it. Thread-safe. The destructor waits for running tasks.
class TaskQueue {
 public:
  TaskQueue(size_t threads, size_t max_queued);
  ~TaskQueue();
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

  // Returns false (without running `task`) once a task has failed.
  bool Submit(std::function<Status()> task);
  // Waits until every submitted task has finished; returns the first error.
  Status Wait();
  bool failed() const;

 private:
  void WorkerLoop();

  mutable std::mutex mu_;
  std::condition_variable work_ready_;
  std::condition_variable space_ready_;
  std::condition_variable idle_;
  std::deque<std::function<Status()>> queue_;
  size_t max_queued_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::optional<Error> first_error_;
  std::vector<std::thread> workers_;
};

}  // namespace standby
