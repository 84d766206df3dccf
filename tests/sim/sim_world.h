#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "env/clock.h"
#include "env/random.h"
#include "failover/controller_context.h"
#include "provider/rate_limiter.h"
#include "provider/simulated_market.h"
#include "state/state_store.h"
#include "store/fault_injecting_store.h"
#include "store/mem_object_store.h"

namespace standby::sim {

// One simulated world of the deterministic simulation (docs/design.md, "The deterministic
// simulation"): a fake clock that jumps to the next sleeper at once, the simulated market
// behind a provider that fails, rate-limits and times out, hosts that answer the agent
// protocol's jobs from a model (they answer, hang, drop connections, fail restores part-way,
// die, or run a dead workload), the memory store behind the fault-injecting wrapper, and
// SQLite in memory. Every draw comes from one PRNG seeded with the world's seed, and
// everything runs on the caller's thread, so a seed replays exactly.

// The machine behind one market instance, as the world sees it.
struct SimHost {
  std::string instance_id;
  bool dead = false;    // killed or destroyed: nothing answers, nothing serves
  bool killed = false;  // the world killed it (a failure), as opposed to a destroy
  bool destroyed = false;
  int64_t destroyed_ns = -1;  // monotonic, when the provider destroyed it
  bool workload_running = false;
  bool workload_broken = false;  // its workload dies at once after every start
  int64_t hang_until_ns = -1;    // SSH accepts, nothing answers until then (a stall)
  int64_t drop_until_ns = -1;    // connections are reset until then
  std::string restored;          // the snapshot restored into its workspace
  std::string validated;         // the snapshot verified there
  bool fail_next_restore = false;
  bool die_during_restore = false;
  double restore_s = 5;
  double verify_s = 3;
  double snapshot_s = 3;
  // Its next snapshot job with a deadline (a planned failover's final snapshot) runs on,
  // heartbeating, until that deadline.
  bool snapshot_hangs = false;
};

// A window of provider trouble, in monotonic nanoseconds.
struct Window {
  int64_t from_ns = 0;
  int64_t to_ns = 0;
  bool Contains(int64_t t) const { return t >= from_ns && t < to_ns; }
};

// What the world noticed happening, for the coverage counters.
struct Sightings {
  bool rate_limited_in_race = false;
  bool outage_while_suspect = false;
  bool replacement_died_mid_restore = false;
  bool final_snapshot_timed_out = false;
};

class World {
 public:
  explicit World(uint64_t seed);
  ~World();

  // The master PRNG: every draw of the world and the scenario.
  std::mt19937_64& rng() { return rng_; }
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  FakeClock& clock() { return clock_; }
  ControllerContext* ctx() { return &ctx_; }
  StateStore* state() { return state_.get(); }
  SimulatedMarket* market() { return market_; }
  FaultInjectingStore* store() { return &store_; }

  void Trace(const std::string& line);
  const std::vector<std::string>& trace() const { return trace_; }

  // Hosts by market instance id, and the one behind an SSH port ("" when none).
  std::map<std::string, SimHost>& hosts() { return hosts_; }
  SimHost* HostAt(int port);
  // The machine dies now (the market notices after its lag).
  void KillHost(const std::string& id);
  // Called by the provider: a new machine and its drawn faults, a destroyed one.
  void OnCreated(const std::string& id);
  void OnDestroyed(const std::string& id);

  // Provider trouble, and the calls it answered (monotonic ns, for the rate invariant).
  std::vector<Window> outages, storms;
  double timeout_share = 0.0;  // share of provider calls that hang, then time out
  std::vector<int64_t> provider_calls_ns;
  // Chances that a new machine fails during restore (connection or machine lost) or runs a
  // dead workload.
  double fail_restore_share = 0.0, die_restore_share = 0.0, broken_workload_share = 0.0;
  bool ProviderDown(int64_t now_ns) const;
  // The object store is unreachable (for the controller, through the fault-injecting
  // wrapper, and for every host) until RestoreStore.
  void BreakStore();
  void RestoreStore();
  bool store_down() const { return store_down_; }

  // Snapshots that exist (the seeded one in the store, and those hosts reported taking).
  std::set<std::string> catalog;
  std::string seeded_snapshot;
  Sightings seen;
  int snapshot_counter = 0;

 private:
  std::mt19937_64 rng_;
  FakeClock clock_;
  SeededRandom random_;
  MemObjectStore mem_;
  FaultInjectingStore store_;
  SimulatedMarket* market_ = nullptr;  // owned by the provider
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<Fleet> fleet_;
  ControllerContext ctx_;
  std::map<std::string, SimHost> hosts_;
  std::vector<std::string> trace_;
  int64_t mono_start_ns_ = 0;
  bool store_down_ = false;
};

// A repository holding one real snapshot of instance `name`, made once per process and
// copied into each world's store (what locating a snapshot reads).
void SeedRepository(ObjectStore* into, const std::string& name, std::string* snapshot_id);

}  // namespace standby::sim
