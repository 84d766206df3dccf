#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "env/executor.h"
#include "failover/controller_context.h"
#include "failover/protection_spec.h"
#include "provision/race.h"

namespace standby {

// Renting on suspicion (docs/design.md, "Renting on suspicion"). Vast.ai bills no GPU time
// while an instance is loading, so at a host's first failed probe the race's first batch is
// launched at once — nothing is fenced, the host keeps its work. If detection then declares
// the host dead, the failover's race starts with those machines already booting
// (RaceOptions::head_start); if the host answers again, each is destroyed and the destroy
// confirmed. Bounded so a flapping host cannot run up a bill: one speculation per instance per
// policy.speculative_window, at most the race's initial batch of machines.
// Launching and giving back run on a task of their own: the supervisor's probes never wait
// for the provider (an outage or a 429 storm would otherwise stall detection itself). Used
// from one supervisor's Tick thread.
// The label prefix of every machine rented on suspicion for instance `name` (its tag is
// <name>+<random>; '+' cannot occur in a name, so one instance's prefix never matches
// another's).
std::string SpeculativeLabelPrefix(ControllerContext* ctx, const std::string& name);

class Speculation {
 public:
  Speculation(ControllerContext* ctx, std::string name) : ctx_(ctx), name_(std::move(name)) {}
  // Gives back what is still rented and waits for its task.
  ~Speculation();
  Speculation(const Speculation&) = delete;
  Speculation& operator=(const Speculation&) = delete;

  // At a first failed probe of `row`'s host: launches (returning at once), unless a
  // speculation is live or one began within the window. Failures are logged; detection goes
  // on regardless.
  void Start(const ProtectionSpec& spec, const ProtectedInstance& row);
  // Machines rented or being rented.
  bool live() const;
  // The machines, for the failover's race; nothing is left. A launch still under way is not
  // waited for (fencing and the race must start now): it gives back what it rents.
  std::vector<HeadStartCandidate> Take();
  // The host answered again, or the bound passed: every machine is destroyed and confirmed,
  // on the task (a launch under way gives back what it rents when it ends).
  void Cancel(const std::string& why);

  // How long the live machines have been rented.
  std::chrono::nanoseconds age() const;

 private:
  // Destroys `machines` and says so (on the speculation's task).
  void GiveBack(std::vector<HeadStartCandidate> machines, const std::string& why);
  // Waits for the task when it has ended (or, with `wait`, in any case).
  void Reap(bool wait);

  ControllerContext* ctx_;
  const std::string name_;
  std::unique_ptr<Executor::Task> task_;
  mutable std::mutex mu_;  // what the task and the Tick thread share
  std::vector<HeadStartCandidate> candidates_;
  bool launching_ = false;
  std::string cancelled_;  // why, when a launch under way is to give its machines back
  int64_t last_start_ns_ = -1;
};

}  // namespace standby
