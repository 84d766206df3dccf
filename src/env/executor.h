#pragma once

#include <functional>
#include <memory>
#include <string>

namespace standby {

// Where the controller's concurrent work runs: every thread it starts (supervisors, the
// lister, fencing ‖ provisioning ‖ locating, watchdogs, the snapshot pool, the event writer)
// is spawned here. Production runs real threads (Threads()); the deterministic simulation
// runs the same functions as tasks of a seeded scheduler (testing/deterministic_scheduler.h)
// that interleaves them one at a time. Code run on an Executor must wait only through its
// Clock (SleepFor, SleepUnless, WaitUnless, WaitForBell) or Task::Join, and never while
// holding a mutex: those are the points where the scheduler may switch tasks.
// Implementations are thread-safe.
class Executor {
 public:
  // One spawned function. Join() waits for it to return; the destructor joins if nobody
  // did, so a task never outlives the objects its function captured.
  class Task {
   public:
    virtual ~Task() = default;
    virtual void Join() = 0;
    // Whether the function has returned (Join() would not wait).
    virtual bool Done() const = 0;
  };

  virtual ~Executor() = default;
  // Starts `fn` concurrently with the caller. `name` labels it (traces, diagnostics).
  virtual std::unique_ptr<Task> Spawn(std::string name, std::function<void()> fn) = 0;

  // Real threads. Never null; not owned by the caller.
  static Executor* Threads();
};

// fn(0..count-1), each on a task of its own, returning once all have returned. With one
// item it runs on the caller's thread.
void RunEach(Executor* executor, const std::string& name, size_t count,
             const std::function<void(size_t)>& fn);

}  // namespace standby
