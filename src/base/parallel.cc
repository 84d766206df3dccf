#include "base/parallel.h"

#include <algorithm>
#include <atomic>

namespace standby {

Status ParallelFor(size_t count, size_t threads, const std::function<Status(size_t)>& fn) {
  if (count == 0) return OkStatus();
  threads = std::max<size_t>(1, std::min(threads, count));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::optional<Error> first_error;
  auto run = [&] {
    while (!failed.load(std::memory_order_relaxed)) {
      size_t i = next.fetch_add(1);
      if (i >= count) return;
      Status status = fn(i);
      if (!status) {
        std::lock_guard<std::mutex> lock(mu);
        if (!first_error) first_error = status.error();
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(run);
  run();
  for (auto& thread : pool) thread.join();
  if (first_error) return *first_error;
  return OkStatus();
}

TaskQueue::TaskQueue(size_t threads, size_t max_queued)
    : max_queued_(std::max<size_t>(1, max_queued)) {
  threads = std::max<size_t>(1, threads);
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

TaskQueue::~TaskQueue() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  space_ready_.notify_all();
  for (auto& worker : workers_) worker.join();
}

bool TaskQueue::Submit(std::function<Status()> task) {
  std::unique_lock<std::mutex> lock(mu_);
  space_ready_.wait(lock, [&] { return queue_.size() < max_queued_ || first_error_ || stopping_; });
  if (first_error_ || stopping_) return false;
  queue_.push_back(std::move(task));
  work_ready_.notify_one();
  return true;
}

Status TaskQueue::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [&] { return queue_.empty() && running_ == 0; });
  if (first_error_) return *first_error_;
  return OkStatus();
}

bool TaskQueue::failed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_error_.has_value();
}

void TaskQueue::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_ready_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) return;
    auto task = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    space_ready_.notify_one();
    bool skip = first_error_.has_value();
    lock.unlock();
    Status status = skip ? OkStatus() : task();
    lock.lock();
    --running_;
    if (!status && !first_error_) {
      first_error_ = status.error();
      space_ready_.notify_all();
    }
    if (queue_.empty() && running_ == 0) idle_.notify_all();
  }
}

}  // namespace standby
