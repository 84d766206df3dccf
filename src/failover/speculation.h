#pragma once

#include <cstdint>
#include <string>
#include <vector>

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
// policy.speculative_window, at most the race's initial batch of machines. Used from one
// supervisor's Tick thread.
// The label prefix of every machine rented on suspicion for instance `name` (its tag is
// <name>+<random>; '+' cannot occur in a name, so one instance's prefix never matches
// another's).
std::string SpeculativeLabelPrefix(ControllerContext* ctx, const std::string& name);

class Speculation {
 public:
  Speculation(ControllerContext* ctx, std::string name) : ctx_(ctx), name_(std::move(name)) {}
  // Destroys what is still live (a supervisor going away leaves nothing rented).
  ~Speculation();
  Speculation(const Speculation&) = delete;
  Speculation& operator=(const Speculation&) = delete;

  // At a first failed probe of `row`'s host: launches, unless a speculation is live or one
  // began within the window. Failures are logged; detection goes on regardless.
  void Start(const ProtectionSpec& spec, const ProtectedInstance& row);
  bool live() const { return !candidates_.empty(); }
  // The machines, for the failover's race; nothing is left here.
  std::vector<HeadStartCandidate> Take();
  // The host answered again: destroys and confirms every machine.
  void Cancel(const std::string& why);

  // How long the live machines have been rented.
  std::chrono::nanoseconds age() const;

 private:
  ControllerContext* ctx_;
  const std::string name_;
  std::vector<HeadStartCandidate> candidates_;
  int64_t last_start_ns_ = -1;
};

}  // namespace standby
