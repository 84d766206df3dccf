#include "testing/deterministic_scheduler.h"

#include <setjmp.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#define STANDBY_ASAN_FIBERS 1
#endif

namespace standby {

// A task's machine context. A task starts with swapcontext (once: it saves and restores the
// signal mask, a system call each way); after that, without the sanitizer's fiber
// bookkeeping, switches are _setjmp/_longjmp (no system call), an order of magnitude cheaper.
struct DeterministicScheduler::Context {
  ucontext_t uc;
  jmp_buf jump;
  const void* stack_bottom = nullptr;  // for the sanitizer's bookkeeping
  size_t stack_size = 0;
};

struct DeterministicScheduler::Fiber {
  enum class State { kNew, kWaiting, kRunning, kDone, kAbandoned };
  std::string name;
  int group = 0;
  std::function<void()> fn;
  State state = State::kNew;
  Context context;
  void* stack = nullptr;  // mmap'd, a guard page at its low end
  int64_t deadline_ns = -1;
  bool started = false;  // its context ran at least once
  std::function<bool()> ready;
  bool woke_ready = false;
};

class DeterministicScheduler::Handle : public Executor::Task {
 public:
  Handle(DeterministicScheduler* scheduler, Fiber* fiber) : scheduler_(scheduler), fiber_(fiber) {}
  ~Handle() override { Join(); }
  void Join() override { scheduler_->Joined(fiber_); }
  bool Done() const override {
    return fiber_->state == Fiber::State::kDone || fiber_->state == Fiber::State::kAbandoned;
  }

 private:
  DeterministicScheduler* scheduler_;
  Fiber* fiber_;
};

namespace {

// Stacks of `bytes` this thread's schedulers no longer use.
std::vector<void*>& StackPool(size_t bytes) {
  thread_local std::map<size_t, std::vector<void*>> pools;
  return pools[bytes];
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "deterministic scheduler: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// Aborts when the scheduler makes no step for `limit` of real time: a task waits on
// something the scheduler cannot see.
class StallWatchdog {
 public:
  StallWatchdog(const std::atomic<uint64_t>* steps, std::chrono::seconds limit,
                std::function<std::string()> running)
      : thread_([this, steps, limit, running = std::move(running)] {
          std::unique_lock<std::mutex> lock(mu_);
          uint64_t seen = steps->load();
          auto since = std::chrono::steady_clock::now();
          while (!done_) {
            cv_.wait_for(lock, std::chrono::milliseconds(500));
            if (done_) return;
            if (steps->load() != seen) {
              seen = steps->load();
              since = std::chrono::steady_clock::now();
            } else if (std::chrono::steady_clock::now() - since > limit) {
              Die("no task switch for " + std::to_string(limit.count()) +
                  " s of real time: task \"" + running() +
                  "\" waits on something the scheduler cannot see (a mutex held across a "
                  "wait, a condition variable, a real sleep)");
            }
          }
        }) {}
  ~StallWatchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

DeterministicScheduler::DeterministicScheduler(Options options)
    : options_(options),
      rng_(options.seed),
      wall_start_(options.start),
      scheduler_context_(std::make_unique<Context>()) {}

DeterministicScheduler::~DeterministicScheduler() {
  // A killed process's tasks keep what they held: their function (and what it captured) is
  // never destroyed, and under the leak checker their stacks stay mapped as roots, so what
  // only they point to is not reported (kill -9 frees nothing either; nothing runs it).
  static auto* graveyard = new std::vector<std::unique_ptr<Fiber>>();
  static std::mutex graveyard_mu;  // schedulers of several threads end at once
  std::lock_guard<std::mutex> lock(graveyard_mu);
  for (auto& fiber : fibers_) {
    const bool killed = fiber->state == Fiber::State::kAbandoned;
#ifdef STANDBY_ASAN_FIBERS
    if (killed && fiber->stack != nullptr) {
      __lsan_register_root_region(
          static_cast<char*>(fiber->stack) + static_cast<size_t>(::getpagesize()),
          options_.stack_bytes);
      fiber->stack = nullptr;  // mapped for good
    }
#endif
    if (fiber->stack != nullptr) free_stacks_.push_back(fiber->stack);
    fiber->stack = nullptr;
    if (killed) graveyard->push_back(std::move(fiber));
  }
  // Kept for the next scheduler of this thread: mapping, faulting in and unmapping stacks
  // for every seed costs more than a seed, and the process's map lock is shared by threads.
  std::vector<void*>& pool = StackPool(options_.stack_bytes);
  for (void* stack : free_stacks_) {
    if (pool.size() < 64) {
      pool.push_back(stack);
    } else {
      ::munmap(stack, options_.stack_bytes + static_cast<size_t>(::getpagesize()));
    }
  }
}

void DeterministicScheduler::CheckCaller(const char* what) const {
  if (running_ && std::this_thread::get_id() != runner_) {
    Die(std::string(what) +
        " from a thread the scheduler did not start: every concurrent part must be spawned "
        "through the Executor");
  }
}

UnixNanos DeterministicScheduler::Now() {
  CheckCaller("Now()");
  return wall_start_ + monotonic_;
}

int64_t DeterministicScheduler::MonotonicNanos() {
  CheckCaller("MonotonicNanos()");
  return monotonic_;
}

bool DeterministicScheduler::Wait(int64_t deadline_ns, std::function<bool()> ready) {
  CheckCaller("a wait");
  if (!running_ || current_ == nullptr) {
    // Not inside Run(): single-threaded use (setting a world up); time moves at once.
    if (ready && ready()) return true;
    if (deadline_ns < 0) Die("an endless wait outside Run()");
    monotonic_ = std::max(monotonic_, deadline_ns);
    return false;
  }
  Fiber* self = current_;
  // A fiber that abandoned its own group (kill -9 from inside the process) stays abandoned:
  // it leaves here and never runs again.
  if (self->state != Fiber::State::kAbandoned) self->state = Fiber::State::kWaiting;
  self->deadline_ns = deadline_ns;
  self->ready = std::move(ready);
  self->woke_ready = false;
  ReturnToScheduler(false);
  return self->woke_ready;
}

void DeterministicScheduler::SleepFor(std::chrono::nanoseconds duration) {
  Wait(monotonic_ + std::max<int64_t>(0, duration.count()), nullptr);
}

bool DeterministicScheduler::SleepUnless(std::chrono::nanoseconds duration,
                                         const std::atomic<bool>& stop,
                                         std::chrono::nanoseconds step) {
  (void)step;
  if (stop.load()) return false;
  return !Wait(monotonic_ + std::max<int64_t>(0, duration.count()),
               [&stop] { return stop.load(); });
}

bool DeterministicScheduler::WaitUnless(std::chrono::nanoseconds duration, StopSignal& stop) {
  if (stop.IsSet()) return false;
  return !Wait(monotonic_ + std::max<int64_t>(0, duration.count()),
               [&stop] { return stop.IsSet(); });
}

bool DeterministicScheduler::WaitForBell(std::chrono::nanoseconds duration, Doorbell& bell) {
  if (bell.Take()) return true;
  Wait(monotonic_ + std::max<int64_t>(0, duration.count()), [&bell] { return bell.Pending(); });
  return bell.Take();
}

bool DeterministicScheduler::Joined(Fiber* fiber) {
  auto over = [fiber] {
    return fiber->state == Fiber::State::kDone || fiber->state == Fiber::State::kAbandoned;
  };
  if (over() || !running_ || current_ == nullptr) return true;  // outside Run: abandoned
  if (fiber == current_) Die("task \"" + fiber->name + "\" joins itself");
  Wait(-1, over);
  return true;
}

DeterministicScheduler::Fiber* DeterministicScheduler::NewFiber(std::string name,
                                                                std::function<void()> fn,
                                                                int group) {
  auto fiber = std::make_unique<Fiber>();
  fiber->name = std::move(name);
  fiber->group = group;
  fiber->fn = std::move(fn);
  Fiber* raw = fiber.get();
  fibers_.push_back(std::move(fiber));
  active_.push_back(raw);
  return raw;
}

std::unique_ptr<Executor::Task> DeterministicScheduler::Spawn(std::string name,
                                                              std::function<void()> fn) {
  CheckCaller("Spawn()");
  const int group = current_ != nullptr ? current_->group : 0;
  return std::make_unique<Handle>(this, NewFiber(std::move(name), std::move(fn), group));
}

std::unique_ptr<Executor::Task> DeterministicScheduler::SpawnInGroup(std::string name,
                                                                     std::function<void()> fn,
                                                                     int* group) {
  CheckCaller("SpawnInGroup()");
  const int mine = next_group_++;
  if (group != nullptr) *group = mine;
  return std::make_unique<Handle>(this, NewFiber(std::move(name), std::move(fn), mine));
}

void DeterministicScheduler::Abandon(int group) {
  CheckCaller("Abandon()");
  for (Fiber* f : active_) {
    if (f->group == group) f->state = Fiber::State::kAbandoned;
  }
}

int DeterministicScheduler::CurrentGroup() const { return current_ ? current_->group : -1; }

std::string DeterministicScheduler::CurrentTask() const { return current_ ? current_->name : ""; }

void DeterministicScheduler::Entry(unsigned int high, unsigned int low) {
  auto* self = reinterpret_cast<DeterministicScheduler*>((static_cast<uintptr_t>(high) << 32) |
                                                         static_cast<uintptr_t>(low));
#ifdef STANDBY_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(nullptr, &self->scheduler_context_->stack_bottom,
                                  &self->scheduler_context_->stack_size);
#endif
  Fiber* fiber = self->current_;
  fiber->fn();
  fiber->fn = nullptr;  // what it captured goes now, on its own stack
  self->ReturnToScheduler(true);
  Die("a finished task was resumed");
}

void DeterministicScheduler::SwitchTo(Fiber* fiber) {
  const size_t page = static_cast<size_t>(::getpagesize());
  if (fiber->state == Fiber::State::kNew) {
    if (free_stacks_.empty() && !StackPool(options_.stack_bytes).empty()) {
      free_stacks_.push_back(StackPool(options_.stack_bytes).back());
      StackPool(options_.stack_bytes).pop_back();
    }
    if (free_stacks_.empty()) {
      void* mem = ::mmap(nullptr, options_.stack_bytes + page, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (mem == MAP_FAILED) Die("cannot map a task's stack");
      ::mprotect(mem, page, PROT_NONE);  // an overflow faults instead of corrupting
      fiber->stack = mem;
    } else {
      fiber->stack = free_stacks_.back();
      free_stacks_.pop_back();
    }
    ::getcontext(&fiber->context.uc);
    fiber->context.uc.uc_stack.ss_sp = static_cast<char*>(fiber->stack) + page;
    fiber->context.uc.uc_stack.ss_size = options_.stack_bytes;
    fiber->context.uc.uc_link = nullptr;
    fiber->context.stack_bottom = fiber->context.uc.uc_stack.ss_sp;
    fiber->context.stack_size = options_.stack_bytes;
    const auto self = reinterpret_cast<uintptr_t>(this);
    ::makecontext(&fiber->context.uc, reinterpret_cast<void (*)()>(&Entry), 2,
                  static_cast<unsigned int>(self >> 32),
                  static_cast<unsigned int>(self & 0xffffffffu));
  }
  fiber->state = Fiber::State::kRunning;
  current_ = fiber;
#ifdef STANDBY_ASAN_FIBERS
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, fiber->context.stack_bottom,
                                 fiber->context.stack_size);
#endif
#ifdef STANDBY_ASAN_FIBERS
  ::swapcontext(&scheduler_context_->uc, &fiber->context.uc);
#else
  if (_setjmp(scheduler_context_->jump) == 0) {
    if (fiber->started) {
      _longjmp(fiber->context.jump, 1);
    } else {
      fiber->started = true;
      ucontext_t discarded;  // a task never returns here: it jumps back to `jump`
      ::swapcontext(&discarded, &fiber->context.uc);
    }
  }
#endif
#ifdef STANDBY_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
  current_ = nullptr;
}

void DeterministicScheduler::ReturnToScheduler(bool finishing) {
  Fiber* self = current_;
  if (finishing) self->state = Fiber::State::kDone;
#ifdef STANDBY_ASAN_FIBERS
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(finishing ? nullptr : &fake_stack,
                                 scheduler_context_->stack_bottom, scheduler_context_->stack_size);
#endif
#ifdef STANDBY_ASAN_FIBERS
  ::swapcontext(&self->context.uc, &scheduler_context_->uc);
#else
  if (_setjmp(self->context.jump) == 0) _longjmp(scheduler_context_->jump, 1);
#endif
#ifdef STANDBY_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(fake_stack, &scheduler_context_->stack_bottom,
                                  &scheduler_context_->stack_size);
#endif
}

void DeterministicScheduler::ReleaseStack(Fiber* fiber) {
  if (fiber->stack != nullptr) free_stacks_.push_back(fiber->stack);
  fiber->stack = nullptr;
}

void DeterministicScheduler::Deadlock() {
  std::string waiting;
  for (Fiber* f : active_) waiting += " \"" + f->name + "\"";
  Die("deadlock: every task waits with no deadline:" + waiting);
}

void DeterministicScheduler::Run(std::function<void()> root) {
  if (running_) Die("Run() is not reentrant");
  running_ = true;
  runner_ = std::this_thread::get_id();
  Fiber* root_fiber = NewFiber("root", std::move(root), 0);
  StallWatchdog watchdog(&steps_, options_.stall_abort, [this] {
    return current_ ? current_->name : std::string("(the scheduler)");
  });
  std::vector<Fiber*> runnable;
  while (root_fiber->state != Fiber::State::kDone &&
         root_fiber->state != Fiber::State::kAbandoned) {
    if (step_hook_) step_hook_();
    runnable.clear();
    int64_t earliest = -1;
    for (Fiber* f : active_) {
      if (f->state == Fiber::State::kNew) {
        runnable.push_back(f);
      } else if (f->state == Fiber::State::kWaiting) {
        if (f->ready && f->ready()) {
          f->woke_ready = true;
          runnable.push_back(f);
        } else if (f->deadline_ns >= 0 && f->deadline_ns <= monotonic_) {
          runnable.push_back(f);
        } else if (f->deadline_ns >= 0 && (earliest < 0 || f->deadline_ns < earliest)) {
          earliest = f->deadline_ns;
        }
      }
    }
    if (runnable.empty()) {
      if (earliest < 0) Deadlock();
      monotonic_ = earliest;  // nothing can run before the earliest deadline
      continue;
    }
    Fiber* next = runnable[runnable.size() == 1 ? 0 : rng_() % runnable.size()];
    for (Fiber* f : runnable) {
      if (f != next) f->woke_ready = false;  // looked at again at the next decision
    }
    next->ready = nullptr;
    ++steps_;
    SwitchTo(next);
    if (next->state == Fiber::State::kDone) ReleaseStack(next);
    std::erase_if(active_, [](Fiber* f) {
      return f->state == Fiber::State::kDone || f->state == Fiber::State::kAbandoned;
    });
  }
  for (Fiber* f : active_) f->state = Fiber::State::kAbandoned;
  active_.clear();
  running_ = false;
}

}  // namespace standby
