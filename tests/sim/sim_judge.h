#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "state/state_store.h"
#include "tests/sim/sim_run.h"
#include "tests/sim/sim_world.h"

namespace standby::sim {

// The simulation's invariants (docs/design.md, "The deterministic simulation"), judged from
// the world — what machines run and serve — at every scheduling step, and from the database
// every round. The harness tells it what it did (faults, kills, operator actions).
class Judge {
 public:
  explicit Judge(World* world) : w_(world) {}

  // What the harness knows of each protected instance.
  struct Instance {
    bool proceed = true;  // its fence_unconfirmed policy
    bool unprotected = false;
    // A make-before-break move was asked for: two may serve until then (monotonic ns).
    int64_t two_may_serve_until_ns = -1;
  };
  std::map<std::string, Instance> instances;
  // Windows in which a machine could not be reached by the controller (stalls, resets,
  // partitions): what makes a failover of a live machine warranted.
  std::map<std::string, std::vector<Window>> silences;
  // Processes killed (kill -9) and when; machines destroyed by `unprotect --destroy`.
  std::map<std::string, int64_t> killed_at;
  std::set<std::string> destroyed_by_unprotect;
  bool any_kill = false;
  // From when a live controller could act on every failover (-1: none runs): after a kill,
  // once the dead process's claims expired.
  int64_t controller_able_since_ns = -1;
  int64_t probe_interval_ns = 2'000'000'000;

  // Never two machines serving one instance: beyond a make-before-break move, only while
  // the extra one cannot be reached (fencing.unconfirmed = proceed) and for a bounded time
  // after it can be again while a controller can act (alive, its database up): it must
  // fence it then. Empty when it holds.
  std::string EveryStep();
  // Everything the database shows, checked against the world; records coverage and the
  // MTTR of cold failovers. Empty when every invariant holds.
  std::string EveryRound(Coverage* coverage, std::vector<int64_t>* mttr_ms);
  // Whether the system is quiet: each protected instance healthy on exactly one serving
  // machine, nothing running, pending or rented beyond its machines. `why` says what is not.
  bool Quiet(std::string* why);
  // Whether a failover of `instance` is running now (read each round).
  bool FailoverRunning(const std::string& instance) const { return running_.contains(instance); }
  // The protected instances as the last round read them.
  const std::vector<ProtectedInstance>& rows() const { return rows_; }

 private:
  bool Warranted(const FailoverEvent& e);
  std::string CheckFailover(const FailoverEvent& e, Coverage* coverage,
                            std::vector<int64_t>* mttr_ms);
  std::string CheckServedMachines(const std::vector<FailoverEvent>& events);
  // The machine a protected instance's row points at, as the world knows it.
  SimHost* PrimaryOf(const ProtectedInstance& row);
  int64_t MonoOf(int64_t unix_ms) const;

  World* w_;
  std::map<std::string, int64_t> versions_;
  std::map<std::string, std::string> marks_;  // state/last failover of each instance
  std::set<std::string> primaries_;           // every machine that served
  std::set<std::string> judged_, finished_;
  std::set<std::string> running_;  // instances with a failover running (last round)
  std::vector<ProtectedInstance> rows_;
  std::vector<FailoverEvent> events_;  // every failover, read again when anything moved
  bool anything_running_ = true;
  int rounds_ = 0;
  std::map<std::string, size_t> calls_checked_;
  size_t reaper_lines_ = 0;
  bool any_halt_ = false;  // a process stopped a failover when it could not renew its claim
};

}  // namespace standby::sim
