#include "tests/sim/sim_world.h"

#include <mutex>

#include "base/strings.h"
#include "env/file_system.h"
#include "provider/rate_limiter.h"
#include "provision/fleet.h"
#include "snapshot/snapshot_writer.h"
#include "state/migrations.h"
#include "state/spooling_state_store.h"
#include "state/sql_connection.h"
#include "state/sql_state_store.h"
#include "tests/sim/sim_state.h"
#include "tests/sim/sim_transport.h"

namespace standby::sim {
namespace {

// One process's client of the world's market (or static pool): API outages (503), 429
// storms, calls that hang and time out, listings that lie (a live machine shown offline, a
// 200 without its list), destroys that are acknowledged but not done, machines listed after
// they are gone — all behind the same rate limiter the Vast.ai client uses.
class SimProvider : public Provider {
 public:
  SimProvider(World* world, std::string process)
      : world_(world),
        process_(std::move(process)),
        limiter_(&world->sched(), RateLimitOptions{}, world->rng()()) {}
  std::string Name() const override { return world_->options().pool ? "pool" : "simulated"; }
  bool DestroyStopsMachine() const override { return !world_->options().pool; }
  Result<std::vector<Offer>> SearchOffers(const OfferFilter& f) override {
    RETURN_IF_ERROR(Call("search offers"));
    return world_->market()->SearchOffers(f);
  }
  Result<Instance> Create(const Offer& o, const LaunchSpec& s) override {
    RETURN_IF_ERROR(Call("create"));
    auto created = world_->market()->Create(o, s);
    if (!created) return created;
    world_->OnCreated(created->id);
    // A failover's race: "standby:<controller>:failover:<failover id>-<attempt>".
    if (auto at = s.label.find(":failover:"); at != std::string::npos) {
      std::string tag = s.label.substr(at + 10);
      tag = tag.substr(0, tag.rfind('-'));
      world_->failover_creates[tag].push_back({process_, world_->Now()});
    }
    return created;
  }
  Result<Instance> Get(const std::string& id) override {
    RETURN_IF_ERROR(Call("get"));
    if (auto ghost = Ghost(id)) return *ghost;
    return world_->market()->Get(id);
  }
  Result<std::vector<Instance>> List(const std::string& prefix) override {
    RETURN_IF_ERROR(Call("list"));
    if (world_->Uniform() < world_->list_error_share) {
      // A 200 whose body lacks the list: the client reads it as an error, never as "none".
      return UnavailableError("list: the provider's answer has no instance list");
    }
    ASSIGN_OR_RETURN(auto listed, world_->market()->List(prefix));
    for (Instance& i : listed) {
      SimHost* h = world_->Host(i.id);
      if (h == nullptr || h->dead || i.state != InstanceState::kRunning) continue;
      if (world_->Uniform() < world_->offline_lie_share) {
        i.state = InstanceState::kOffline;
        world_->offline_lies_ns[i.id].push_back(world_->Now());
        world_->seen.offline_lie = true;
      }
    }
    for (const auto& [id, ghost] : ghosts_) {
      if (Ghost(id) && ghost.label.starts_with(prefix)) listed.push_back(ghost);
    }
    return listed;
  }
  Status Destroy(const std::string& id) override {
    RETURN_IF_ERROR(Call("destroy"));
    SimHost* h = world_->Host(id);
    if (h != nullptr && h->stubborn_until_ns > world_->Now()) {
      world_->seen.stubborn_destroy = true;
      return OkStatus();  // acknowledged; the machine runs on
    }
    auto before = world_->market()->Get(id);
    Status done = world_->market()->Destroy(id);
    if (done && before) {
      world_->OnDestroyed(id);
      if (h != nullptr && h->ghost_until_ns > world_->Now()) ghosts_[id] = *before;
    }
    return done;
  }
  int64_t RateLimitHits() const override { return limiter_.hits(); }

 private:
  std::optional<Instance> Ghost(const std::string& id) {
    SimHost* h = world_->Host(id);
    auto it = ghosts_.find(id);
    if (it == ghosts_.end() || h == nullptr || h->ghost_until_ns <= world_->Now()) {
      return std::nullopt;
    }
    world_->seen.ghost_listing = true;
    return it->second;
  }

  // One request, with the Vast.ai client's retries: 429 and 5xx back off and retry.
  Status Call(const std::string& what) {
    Error last = UnavailableError(what + ": no attempt");
    for (int attempt = 0; attempt < 4; ++attempt) {
      limiter_.AwaitTurn();
      const int64_t now = world_->Now();
      world_->provider_calls_ns[process_].push_back(now);
      if (world_->Uniform() < world_->timeout_share) {
        world_->sched().SleepFor(std::chrono::seconds(10));
        last = DeadlineExceededError(what + ": the provider API did not answer within 10 s");
        limiter_.OnRateLimited(false);
        continue;
      }
      bool storm = false;
      for (const Window& w : world_->storms) storm = storm || w.Contains(now);
      if (storm) {
        limiter_.OnRateLimited();
        if (what == "search offers" || what == "create") world_->seen.rate_limited_in_race = true;
        last = ResourceExhaustedError(what + ": rate limited (429)");
        continue;
      }
      if (world_->ProviderDown(now)) {
        limiter_.OnRateLimited(false);
        last = UnavailableError(what + ": HTTP 503 (Service Unavailable)");
        continue;
      }
      limiter_.OnSuccess();
      return OkStatus();
    }
    return last;
  }

  World* world_;
  const std::string process_;
  RateLimiter limiter_;
  std::map<std::string, Instance> ghosts_;
};

}  // namespace

World::World(uint64_t seed, WorldOptions options)
    : rng_(seed),
      options_(options),
      sched_({.seed = rng_(), .start = kStartNs}),
      random_(rng_()),
      mem_(&sched_),
      store_(&mem_) {
  MarketProfile profile = VastLikeProfile();
  profile.offline_lag_s = 5;
  market_ = std::make_unique<SimulatedMarket>(profile, &sched_, rng_());
  // Every world starts from one migrated database per thread (migrating costs more than a
  // whole seed's queries).
  static thread_local std::unique_ptr<SqlConnection> migrated = [] {
    auto conn = OpenSqlite(":memory:");
    if (!conn || !Migrate(conn->get())) throw std::runtime_error("sim: cannot migrate SQLite");
    return std::move(*conn);
  }();
  auto db = SqlStateStore::Open(
      []() -> Result<std::unique_ptr<SqlConnection>> {
        ASSIGN_OR_RETURN(auto conn, OpenSqlite(":memory:"));
        RETURN_IF_ERROR(CopySqliteDatabase(migrated.get(), conn.get()));
        return conn;
      },
      "sqlite://:memory:", 1);
  if (!db) throw std::runtime_error("sim: cannot open SQLite in memory: " + db.error().message);
  db_ = std::move(*db);
  mono_start_ns_ = sched_.MonotonicNanos();
}

World::~World() = default;

std::unique_ptr<Process> World::NewProcess(const std::string& id) {
  auto p = std::make_unique<Process>();
  p->id = id;
  // The process's connection: faults of the database below the spool, which replays what a
  // dead process spooled (the spool lives in the state directory, which outlives it).
  auto faulty = std::make_unique<FaultyDatabase>(this, db_.get());
  auto spooled = std::make_unique<SpoolingStateStore>(std::move(faulty), dir_.Sub("state.spool"));
  p->state = std::make_unique<YieldingDatabase>(this, id, std::move(spooled));
  OpenedProvider opened;
  opened.provider = std::make_unique<SimProvider>(this, id);
  opened.controller = "sim";
  RaceOptions race;
  race.poll_interval = std::chrono::milliseconds(1000);
  // The simulated market is small: an hour-long blacklist could empty it for the whole quiet
  // window, which says nothing about the controller.
  race.blacklist_for = std::chrono::seconds(600);
  race.executor = &sched_;
  p->fleet = std::make_unique<Fleet>(std::move(opened), std::make_unique<SimHosts>(this),
                                     p->state.get(), &sched_, &random_, race, "root");
  ControllerContext& ctx = p->ctx;
  ctx.clock = &sched_;
  ctx.executor = &sched_;
  ctx.random = &random_;
  ctx.state = p->state.get();
  ctx.fleet = p->fleet.get();
  ctx.open_store = [this](const std::string&) -> Result<std::shared_ptr<ObjectStore>> {
    return std::shared_ptr<ObjectStore>(&store_, [](ObjectStore*) {});
  };
  ctx.controller = "sim";
  ctx.process_id = id;
  ctx.max_concurrent_snapshots = 1;
  ctx.log = [this, id](const std::string& line) { Trace("[" + id + "] " + line); };
  return p;
}

void World::Trace(const std::string& line) {
  const double t = static_cast<double>(sched_.MonotonicNanos() - mono_start_ns_) / 1e9;
  char at[32];
  std::snprintf(at, sizeof(at), "%8.1f  ", t);
  // The seeded snapshots' ids are drawn once per process (by the snapshot engine, from the
  // system's randomness); a trace names them the same in every replay.
  std::string text = line;
  for (const auto& [name, id] : seeded) {
    for (size_t at_id = 0; (at_id = text.find(id, at_id)) != std::string::npos;) {
      text.replace(at_id, id.size(), "<seeded " + name + ">");
    }
  }
  trace_.push_back(at + text);
}

SimHost* World::Host(const std::string& id) {
  auto it = hosts_.find(id);
  return it == hosts_.end() ? nullptr : &it->second;
}

SimHost* World::HostAt(int port) {
  // The market's endpoints: direct at 20000 + id, proxy one above (a direct match first).
  for (int proxy = 0; proxy < 2; ++proxy) {
    for (auto& [id, h] : hosts_) {
      if (h.port + proxy != port || (proxy == 1 && h.adopted)) continue;
      if (h.adopted || (h.pool && h.destroyed)) return &h;  // a released machine runs on
      auto instance = market_->Get(id);
      if (!instance || instance->state != InstanceState::kRunning) return nullptr;
      return &h;
    }
  }
  return nullptr;
}

SimHost* World::OldHostOf(const FailoverEvent& e) {
  if (SimHost* h = Host(e.original_instance_id)) return h;
  for (auto& [id, h] : hosts_) {
    if (h.adopted && h.port == e.original_ssh_port && !e.original_ssh_host.empty()) return &h;
  }
  return nullptr;
}

void World::KillHost(const std::string& id) {
  SimHost* h = Host(id);
  if (h == nullptr || h->dead) return;
  h->dead = true;
  h->killed = true;
  if (!h->adopted) market_->Kill(id).IgnoreError();  // (a released pool machine: not listed)
  Trace("world: machine " + id + " dies");
}

SimHost& World::AddAdoptedHost(const std::string& instance) {
  SimHost h;
  h.id = "ssh-" + std::to_string(++adopted_);
  h.port = 30000 + adopted_;
  h.adopted = true;
  h.serves = instance;
  h.workload_running = true;
  h.restored = seeded[instance];
  h.snapshot_s = 1 + 4 * Uniform();
  hosts_[h.id] = h;
  return hosts_[h.id];
}

void World::OnCreated(const std::string& id) {
  SimHost host;
  host.id = id;
  host.port = 20000 + std::atoi(id.c_str());  // the market's direct endpoint
  host.pool = options_.pool;
  host.fail_next_restore = Uniform() < fail_restore_share;
  host.die_during_restore = Uniform() < die_restore_share;
  host.workload_broken = Uniform() < broken_workload_share;
  host.corrupt_next_restore = Uniform() < corrupt_restore_share;
  // A 4 GiB workspace at the rates docs/performance.md measured on this machine: restore
  // 1.21 s per GiB (local repository), validation 0.68 s per GiB; ±20%.
  host.restore_s = 4 * 1.21 * (0.8 + 0.4 * Uniform());
  host.verify_s = 4 * 0.68 * (0.8 + 0.4 * Uniform());
  host.snapshot_s = 1 + 4 * Uniform();
  if (Uniform() < stubborn_share) host.stubborn_until_ns = Now() + int64_t{90'000'000'000};
  if (Uniform() < ghost_share) host.ghost_until_ns = Now() + int64_t{60'000'000'000};
  hosts_[id] = host;
}

void World::OnDestroyed(const std::string& id) {
  SimHost* h = Host(id);
  if (h == nullptr || h->destroyed) return;  // a destroy of what is gone changes nothing
  h->destroyed = true;
  h->destroyed_ns = Now();
  if (h->pool) return;  // released: the machine, and whatever runs on it, runs on
  h->dead = true;
}

void World::BreakStore() {
  store_down_ = true;
  for (StoreOp op :
       {StoreOp::kPut, StoreOp::kGet, StoreOp::kHead, StoreOp::kList, StoreOp::kDelete}) {
    store_.FailCall(op, 1, UnavailableError("object store: 503 Slow Down"), /*sticky=*/true);
  }
}

void World::RestoreStore() {
  store_down_ = false;
  store_.Heal();
}

bool World::ProviderDown(int64_t now_ns) const {
  for (const Window& w : outages) {
    if (w.Contains(now_ns)) return true;
  }
  return false;
}

bool World::DatabaseDown(int64_t now_ns) const {
  for (const Window& w : db_outages) {
    if (w.Contains(now_ns)) return true;
  }
  return false;
}

std::map<std::string, std::string> SeedRepository(ObjectStore* into,
                                                  const std::vector<std::string>& names) {
  // Made once (real snapshots of a small real directory), copied into each world.
  static std::mutex mu;
  static MemObjectStore* templ = nullptr;
  static std::map<std::string, std::string> ids;
  std::lock_guard<std::mutex> lock(mu);
  if (templ == nullptr) {
    static FakeClock clock;
    templ = new MemObjectStore(&clock);
  }
  for (const std::string& name : names) {
    if (ids.contains(name)) continue;
    TempDir dir;
    WriteFile(dir.Sub("ws/model.bin"), RandomBytes(64 << 10, 1));
    WriteFile(dir.Sub("ws/config.json"), "{\"layers\": 2}");
    WriteFile(dir.Sub("ws/step.txt"), "1");
    SnapshotOptions options;
    options.instance_id = name;
    options.workspace = dir.Sub("ws");
    options.threads = 1;
    static FakeClock clock;
    options.clock = &clock;
    auto made = CreateSnapshot(templ, options);
    if (!made) throw std::runtime_error("sim: cannot seed the repository: " + made.error().message);
    ids[name] = made->header.snapshot_id;
  }
  std::string token;
  do {
    auto page = templ->List("", token);
    if (!page) throw std::runtime_error("sim: cannot list the seed repository");
    for (const auto& object : page->objects) {
      into->Put(object.key, *templ->Get(object.key)).IgnoreError();
    }
    token = page->next_token;
  } while (!token.empty());
  std::map<std::string, std::string> out;
  for (const std::string& name : names) out[name] = ids[name];
  return out;
}

}  // namespace standby::sim
