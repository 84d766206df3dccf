#include "failover/speculation.h"

#include "base/strings.h"
#include "provision/ownership.h"

namespace standby {

std::string SpeculativeLabelPrefix(ControllerContext* ctx, const std::string& name) {
  return ctx->fleet->provisioner()->LabelFor("speculative", name + "+");
}

Speculation::~Speculation() {
  if (live()) Cancel("the instance is no longer watched here");
  Reap(/*wait=*/true);
}

void Speculation::Reap(bool wait) {
  if (task_ && (wait || task_->Done())) {
    task_->Join();
    task_.reset();
  }
}

bool Speculation::live() const {
  std::lock_guard<std::mutex> lock(mu_);
  return launching_ || !candidates_.empty();
}

void Speculation::Start(const ProtectionSpec& spec, const ProtectedInstance& row) {
  Reap(false);
  const int64_t now = ctx_->clock->MonotonicNanos();
  if (task_ || live() ||
      (last_start_ns_ >= 0 &&
       now - last_start_ns_ < std::chrono::nanoseconds(spec.policy.speculative_window).count())) {
    return;
  }
  last_start_ns_ = now;
  ProvisionRequest request;
  request.filter = spec.filter;
  request.launch.image = spec.image;
  request.launch.disk_gb = spec.disk_gb;
  request.purpose = "speculative";
  request.tag = name_ + "+" + ctx_->random->HexId(8);
  request.instance_id = spec.name;
  if (!row.machine_id.empty()) request.avoid_machines = {row.machine_id};
  request.ssh_user = spec.ssh_user;
  const RaceOptions& race = ctx_->fleet->provisioner()->options();
  const int count = std::min(race.initial_batch, race.max_in_flight);
  {
    std::lock_guard<std::mutex> lock(mu_);
    launching_ = true;
    cancelled_.clear();
  }
  task_ = ctx_->executor->Spawn(name_ + "/speculation", [this, request, count] {
    auto launched = ctx_->fleet->LaunchAhead(request, count);
    std::vector<HeadStartCandidate> given_back;
    std::string why;
    {
      std::lock_guard<std::mutex> lock(mu_);
      launching_ = false;
      if (launched && !cancelled_.empty()) {
        given_back = std::move(*launched);
        why = cancelled_;
      } else if (launched) {
        candidates_ = std::move(*launched);
      }
    }
    if (!launched) {
      ctx_->Log(name_ + ": renting on suspicion failed (" + launched.error().message +
                "); the race will start from nothing if the host is declared dead");
      return;
    }
    if (!given_back.empty()) return GiveBack(std::move(given_back), why);
    std::vector<std::string> ids;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const HeadStartCandidate& c : candidates_) ids.push_back(c.instance.id);
    }
    if (ids.empty()) return;
    ctx_->Log(name_ + ": host suspect: renting on suspicion, " + std::to_string(ids.size()) +
              " machine(s) loading (" + JoinStrings(ids, ", ") +
              "); nothing is fenced until the host is declared dead");
  });
}

std::chrono::nanoseconds Speculation::age() const {
  return std::chrono::nanoseconds(live() ? ctx_->clock->MonotonicNanos() - last_start_ns_ : 0);
}

std::vector<HeadStartCandidate> Speculation::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  if (launching_) cancelled_ = "the failover started before renting on suspicion ended";
  std::vector<HeadStartCandidate> out;
  out.swap(candidates_);
  return out;
}

void Speculation::Cancel(const std::string& why) {
  std::vector<HeadStartCandidate> machines;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (launching_) {
      cancelled_ = why;  // the launch gives back what it rented when it ends
      return;
    }
    machines.swap(candidates_);
  }
  if (machines.empty()) return;
  Reap(/*wait=*/true);  // (a finished launch, or an earlier give-back)
  task_ = ctx_->executor->Spawn(name_ + "/speculation",
                                [this, machines, why] { GiveBack(machines, why); });
}

void Speculation::GiveBack(std::vector<HeadStartCandidate> machines, const std::string& why) {
  std::vector<std::string> confirmed, unconfirmed;
  for (const HeadStartCandidate& c : machines) {
    // An unconfirmed destroy stays owned and pending (ownership.h): retried, not forgotten.
    (DestroyAndConfirm(ctx_->fleet->provider(), ctx_->state, c.instance.id, ctx_->clock,
                       {.instance_id = name_})
         ? confirmed
         : unconfirmed)
        .push_back(c.instance.id);
  }
  std::string line = name_ + ": " + why + ": destroyed the machine(s) rented on suspicion";
  if (!confirmed.empty()) line += " (" + JoinStrings(confirmed, ", ") + ", each confirmed gone)";
  if (!unconfirmed.empty()) {
    line += "; not confirmed: " + JoinStrings(unconfirmed, ", ") +
            " (destroy pending: retried until the provider confirms)";
  }
  ctx_->Log(line);
}

}  // namespace standby
