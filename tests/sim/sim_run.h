#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace standby::sim {

// The "sometimes" assertions: each must hold in at least one seed of a run.
struct Coverage {
  std::map<std::string, int> hits;  // name → seeds that hit it
  void Add(const Coverage& other) {
    for (const auto& [name, n] : other.hits) hits[name] += n;
  }
};
// Every name a run must hit (docs/design.md, "The deterministic simulation").
const std::vector<std::string>& RequiredCoverage();

struct SimOptions {
  bool speculative_race = true;  // the policy's renting on suspicion
  // Only clean cold failovers (the MTTR measurement): one instance whose machine dies, with
  // no other fault, no kill and no failing replacement.
  bool cold_only = false;
};

struct SeedResult {
  uint64_t seed = 0;
  std::string violation;  // empty: every invariant held
  std::vector<std::string> trace;
  Coverage coverage;
  std::vector<int64_t> mttr_ms;  // cold failovers (host_dead) that succeeded
  bool placed = true;            // false: the first placement found no machine (not judged)
  // Renting on suspicion: machines rented, suspicions that ended with the host answering
  // again and the machines they rented, and the time every machine that never served
  // was rented (what losers and false suspicions cost).
  int speculative_rentals = 0;
  int false_suspicions = 0;
  int false_suspicion_rentals = 0;
  double loser_instance_s = 0;
};

// One seed: a world, one to three protected instances placed in it, a scenario of failures,
// lies, operator actions and kill -9s drawn from the seed, the production Controller run as
// its processes on the deterministic scheduler, and the invariants checked at every
// scheduling step (from the world) and every round (from the database).
SeedResult RunSeed(uint64_t seed, const SimOptions& options = {});

}  // namespace standby::sim
