#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "env/clock.h"
#include "env/executor.h"

namespace standby {

// Runs concurrent code one task at a time, in an order drawn from a seed: the clock and the
// executor of the deterministic simulation (FoundationDB's way: the same code, simulated
// concurrency). Each task is a fiber on the thread that called Run(). A task runs until it
// waits (SleepFor, SleepUnless, WaitUnless, WaitForBell, Join); the scheduler then picks the
// next runnable task with its PRNG, and moves time to the earliest deadline only when no
// task can run. So a seed replays exactly, and a 30-minute failover costs microseconds.
//
// While Run() runs, only its tasks may use the scheduler (a real thread calling it aborts the
// process: it would break determinism), and a task must not wait any other way (a real
// sleep, a condition variable, a mutex held across a wait): that stalls every task, and a
// watchdog aborts after `stall_abort` of real time naming the task that ran last.
//
// Groups stand for processes: a task belongs to its spawner's group, SpawnInGroup starts a
// new one, and Abandon(group) is kill -9 — its tasks never run again and nothing on their
// stacks is destroyed (their memory is kept, unreachable, until the scheduler goes).
class DeterministicScheduler : public Clock, public Executor {
 public:
  struct Options {
    uint64_t seed = 1;
    UnixNanos start = 1'800'000'000'000'000'000;
    size_t stack_bytes = size_t{1} << 20;
    std::chrono::seconds stall_abort{120};
  };
  explicit DeterministicScheduler(Options options);
  ~DeterministicScheduler() override;
  DeterministicScheduler(const DeterministicScheduler&) = delete;
  DeterministicScheduler& operator=(const DeterministicScheduler&) = delete;

  // Runs `root` as a task (group 0) and every task it starts until `root` returns; tasks
  // still waiting then are abandoned. Not reentrant.
  void Run(std::function<void()> root);

  // Clock. Outside Run(), SleepFor moves time at once and the waits return their timeout.
  UnixNanos Now() override;
  int64_t MonotonicNanos() override;
  void SleepFor(std::chrono::nanoseconds duration) override;
  bool SleepUnless(std::chrono::nanoseconds duration, const std::atomic<bool>& stop,
                   std::chrono::nanoseconds step = std::chrono::milliseconds(100)) override;
  bool WaitUnless(std::chrono::nanoseconds duration, StopSignal& stop) override;
  bool WaitForBell(std::chrono::nanoseconds duration, Doorbell& bell) override;

  // Executor: the task joins the caller's group.
  std::unique_ptr<Task> Spawn(std::string name, std::function<void()> fn) override;
  // A task in a new group (a new process); returns the group with the task.
  std::unique_ptr<Task> SpawnInGroup(std::string name, std::function<void()> fn, int* group);
  // Kill -9 of `group`: its tasks never run again; Join() of one returns at once.
  void Abandon(int group);
  // The group and name of the running task (-1 and "" outside a task).
  int CurrentGroup() const;
  std::string CurrentTask() const;

  // Called before every scheduling decision, on the scheduler's own stack (not a task's): it
  // may read anything and Abandon groups, but must not wait.
  void SetStepHook(std::function<void()> hook) { step_hook_ = std::move(hook); }
  // Scheduling decisions so far (one per task switch).
  uint64_t steps() const { return steps_.load(); }

 private:
  struct Fiber;
  class Handle;

  // Parks the running task until `ready()` holds or `deadline_ns` (monotonic; -1: none)
  // passes. Returns whether it woke because `ready()` held.
  bool Wait(int64_t deadline_ns, std::function<bool()> ready);
  bool Joined(Fiber* fiber);
  void SwitchTo(Fiber* fiber);
  void ReturnToScheduler(bool finishing);
  void CheckCaller(const char* what) const;
  Fiber* NewFiber(std::string name, std::function<void()> fn, int group);
  void ReleaseStack(Fiber* fiber);
  [[noreturn]] void Deadlock();
  static void Entry(unsigned int high, unsigned int low);

  const Options options_;
  std::mt19937_64 rng_;
  UnixNanos wall_start_;
  int64_t monotonic_ = 0;
  int next_group_ = 1;
  std::vector<std::unique_ptr<Fiber>> fibers_;  // every task ever started, in start order
  std::vector<Fiber*> active_;                  // not done and not abandoned
  std::vector<void*> free_stacks_;
  Fiber* current_ = nullptr;
  struct Context;
  std::unique_ptr<Context> scheduler_context_;
  bool running_ = false;
  std::thread::id runner_;
  std::function<void()> step_hook_;
  std::atomic<uint64_t> steps_{0};
};

}  // namespace standby
