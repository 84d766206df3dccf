#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "env/random.h"
#include "failover/controller.h"
#include "failover/controller_context.h"
#include "provider/simulated_market.h"
#include "state/state_store.h"
#include "store/fault_injecting_store.h"
#include "store/mem_object_store.h"
#include "testing/deterministic_scheduler.h"
#include "testing/test_util.h"

namespace standby::sim {

// One simulated world of the deterministic simulation (docs/design.md, "The deterministic
// simulation"). The world is what outlives a controller process: the machines (a market's
// instances, a static pool's machines, hosts adopted over SSH), the object store, the
// database and the controller's state directory (its spool). Every controller process
// (`serve`, `protect --provision`) is a Process: its own Fleet, provider client, transports
// and connection to the database, running the production Controller and Recovery on the
// world's deterministic scheduler. Every draw comes from one PRNG seeded with the seed, so a
// seed replays exactly.

// A window of trouble, in monotonic nanoseconds.
struct Window {
  int64_t from_ns = 0;
  int64_t to_ns = 0;
  bool Contains(int64_t t) const { return t >= from_ns && t < to_ns; }
};

// A machine as the world sees it: a market instance, a pool machine or an adopted host.
struct SimHost {
  std::string id;             // the market's instance id, or "ssh-N" for an adopted host
  int port = 0;               // its SSH port
  bool pool = false;          // a pool machine: a "destroy" only releases it; it runs on
  bool adopted = false;       // reached over SSH, rented from no provider
  bool dead = false;          // killed or destroyed: nothing answers, nothing serves
  bool killed = false;        // the world killed it (a failure), as opposed to a destroy
  bool destroyed = false;     // destroyed or released through the provider
  int64_t destroyed_ns = -1;  // monotonic, when
  // Its workload: the protected instance it serves (the last one started there).
  std::string serves;
  bool workload_running = false;
  bool workload_broken = false;  // dies at once after every start
  // Faults: SSH accepts but nothing answers (a stall), connections reset, or the
  // controller cannot reach it at all while it serves its users (a partition).
  int64_t hang_until_ns = -1;
  int64_t drop_until_ns = -1;
  int64_t partition_until_ns = -1;
  // What its workspace holds: the snapshot restored there, whether the bytes are right (a
  // restore can silently leave wrong bytes: a full disk, a flipped bit, a lying host).
  std::string restored;
  bool corrupt = false;
  std::string validated;
  bool fail_next_restore = false;
  bool die_during_restore = false;
  bool corrupt_next_restore = false;
  double restore_s = 5;
  double verify_s = 3;
  double snapshot_s = 3;
  bool snapshot_hangs = false;  // its next snapshot with a deadline runs into it
  // The provider lies about it: destroys are acknowledged but it runs on, or it stays
  // listed after it is gone.
  int64_t stubborn_until_ns = -1;
  int64_t ghost_until_ns = -1;

  bool Serving() const { return !dead && workload_running && !workload_broken && !serves.empty(); }
  // When the controller can reach it again (-1: it can now).
  int64_t UnreachableUntil() const {
    return std::max({hang_until_ns, drop_until_ns, partition_until_ns});
  }
};

// What the world noticed, for the coverage counters.
struct Sightings {
  bool rate_limited_in_race = false;
  bool replacement_died_mid_restore = false;
  bool silent_corruption = false;
  bool offline_lie = false;
  bool stubborn_destroy = false;
  bool ghost_listing = false;
  bool database_down_in_failover = false;
};

struct WorldOptions {
  bool pool = false;  // the provider is a static pool (a destroy releases, never stops)
};

class World;

// One controller process: what dies with it (kill -9) and what a new one opens again.
struct Process {
  std::string id;
  std::unique_ptr<StateStore> state;  // yielding → spooling → faulty → the world's database
  std::unique_ptr<Fleet> fleet;
  ControllerContext ctx;
  int group = -1;
  bool killed = false;
};

class World {
 public:
  World(uint64_t seed, WorldOptions options);
  ~World();

  std::mt19937_64& rng() { return rng_; }
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  double Between(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  DeterministicScheduler& sched() { return sched_; }
  int64_t Now() { return sched_.MonotonicNanos(); }
  // The monotonic time of a stored Unix-milliseconds time.
  int64_t MonoOf(int64_t unix_ms) const { return unix_ms * 1'000'000 - kStartNs; }
  static constexpr int64_t kStartNs = 1'800'000'000'000'000'000;
  // The database itself (the judge reads it without faults or yields).
  StateStore* db() { return db_.get(); }
  SimulatedMarket* market() { return market_.get(); }
  FaultInjectingStore* store() { return &store_; }
  const WorldOptions& options() const { return options_; }

  void Trace(const std::string& line);
  const std::vector<std::string>& trace() const { return trace_; }

  // A new controller process, with its own clients of the world.
  std::unique_ptr<Process> NewProcess(const std::string& id);

  std::map<std::string, SimHost>& hosts() { return hosts_; }
  SimHost* Host(const std::string& id);
  SimHost* HostAt(int port);
  // The machine dies now (the market notices after its lag).
  void KillHost(const std::string& id);
  // A host the user owns, reached over SSH (protect --ssh): serving `instance` already.
  SimHost& AddAdoptedHost(const std::string& instance);
  // The machine a failover replaced (a market or pool machine, or an adopted host).
  SimHost* OldHostOf(const FailoverEvent& e);
  // Called by providers: a new machine and its drawn faults, a destroyed (or released) one.
  void OnCreated(const std::string& id);
  void OnDestroyed(const std::string& id);

  // Provider trouble (monotonic windows), lies, and the calls each process made.
  std::vector<Window> outages, storms, db_outages;
  double timeout_share = 0.0;      // provider calls that hang, then time out
  double offline_lie_share = 0.0;  // a listing shows a live machine offline
  double list_error_share = 0.0;   // a listing answers 200 without its list (read as an error)
  double stubborn_share = 0.0;     // a new machine's destroys are acknowledged, not done, a while
  double ghost_share = 0.0;        // a destroyed machine stays listed a while
  std::map<std::string, std::vector<int64_t>> provider_calls_ns;  // process → calls
  // When the provider showed a live machine as offline (monotonic), per machine.
  std::map<std::string, std::vector<int64_t>> offline_lies_ns;
  // Machines created with a failover's label, by which process and when (monotonic).
  struct FailoverCreate {
    std::string process;
    int64_t at_ns;
  };
  std::map<std::string, std::vector<FailoverCreate>> failover_creates;
  double fail_restore_share = 0, die_restore_share = 0, broken_workload_share = 0,
         corrupt_restore_share = 0;
  bool ProviderDown(int64_t now_ns) const;
  bool DatabaseDown(int64_t now_ns) const;
  void BreakStore();
  void RestoreStore();
  bool store_down() const { return store_down_; }

  // Snapshots that exist (the seeded ones and those hosts reported taking).
  std::set<std::string> catalog;
  std::map<std::string, std::string> seeded;  // instance → its seeded snapshot
  Sightings seen;
  int snapshot_counter = 0;
  // Tasks parked in a database write right now, per process (a kill there lands between
  // two writes).
  std::map<std::string, int> parked_in_write;
  // The failover phase each process wrote last (a kill can be aimed at a phase).
  std::map<std::string, std::string> phase_written;

 private:
  std::mt19937_64 rng_;
  const WorldOptions options_;
  DeterministicScheduler sched_;
  SeededRandom random_;
  TempDir dir_;  // the controller's state directory (its spool outlives a process)
  MemObjectStore mem_;
  FaultInjectingStore store_;
  std::unique_ptr<SimulatedMarket> market_;
  std::unique_ptr<StateStore> db_;
  std::map<std::string, SimHost> hosts_;
  std::vector<std::string> trace_;
  int64_t mono_start_ns_ = 0;
  bool store_down_ = false;
  int adopted_ = 0;
};

// A repository holding one real snapshot of each of `names`, made once per process and
// copied into each world's store (what locating a snapshot reads). Returns name → id.
std::map<std::string, std::string> SeedRepository(ObjectStore* into,
                                                  const std::vector<std::string>& names);

}  // namespace standby::sim
