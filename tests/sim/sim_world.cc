#include "tests/sim/sim_world.h"

#include <mutex>

#include "base/strings.h"
#include "env/file_system.h"
#include "provision/fleet.h"
#include "snapshot/snapshot_writer.h"
#include "state/sql_connection.h"
#include "state/sql_state_store.h"
#include "testing/test_util.h"

namespace standby::sim {
namespace {

constexpr int64_t kStartNs = 1'800'000'000'000'000'000;

// The market behind the world's faults: API outages (503), 429 storms, calls that hang and
// time out, all behind the same rate limiter the Vast.ai client uses. Destroys and creates
// are reported to the world, which owns the machines' models.
class SimProvider : public Provider {
 public:
  SimProvider(World* world, std::unique_ptr<SimulatedMarket> market)
      : world_(world),
        market_(std::move(market)),
        limiter_(&world->clock(), RateLimitOptions{}, world->rng()()) {}
  std::string Name() const override { return market_->Name(); }
  Result<std::vector<Offer>> SearchOffers(const OfferFilter& f) override {
    RETURN_IF_ERROR(Call("search offers"));
    return market_->SearchOffers(f);
  }
  Result<Instance> Create(const Offer& o, const LaunchSpec& s) override {
    RETURN_IF_ERROR(Call("create"));
    auto created = market_->Create(o, s);
    if (created) world_->OnCreated(created->id);
    return created;
  }
  Result<Instance> Get(const std::string& id) override {
    RETURN_IF_ERROR(Call("get"));
    return market_->Get(id);
  }
  Result<std::vector<Instance>> List(const std::string& prefix) override {
    RETURN_IF_ERROR(Call("list"));
    return market_->List(prefix);
  }
  Status Destroy(const std::string& id) override {
    RETURN_IF_ERROR(Call("destroy"));
    Status done = market_->Destroy(id);
    if (done) world_->OnDestroyed(id);
    return done;
  }
  int64_t RateLimitHits() const override { return limiter_.hits(); }

 private:
  // One request, with the Vast.ai client's retries: 429 and 5xx back off and retry.
  Status Call(const std::string& what) {
    Error last = UnavailableError(what + ": no attempt");
    for (int attempt = 0; attempt < 4; ++attempt) {
      limiter_.AwaitTurn();
      const int64_t now = world_->clock().MonotonicNanos();
      world_->provider_calls_ns.push_back(now);
      if (world_->Uniform() < world_->timeout_share) {
        world_->clock().SleepFor(std::chrono::seconds(10));
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
  std::unique_ptr<SimulatedMarket> market_;
  RateLimiter limiter_;
};

// The agent on a simulated host: each job is answered from the host's model, taking
// simulated time. Errors are those a real transport gives (refused, reset, timed out).
class SimTransport : public AgentTransport {
 public:
  SimTransport(World* world, int port) : world_(world), port_(port) {}

  Result<nlohmann::json> RunJob(const AgentJob& job,
                                const std::function<void(const AgentEvent&)>& on_event) override {
    FakeClock& clock = world_->clock();
    SimHost* host = world_->HostAt(port_);
    if (host == nullptr || host->dead) {
      return UnavailableError("ssh 127.0.0.1:" + std::to_string(port_) + ": connection refused");
    }
    const int64_t now = clock.MonotonicNanos();
    if (host->drop_until_ns > now) {
      return UnavailableError("ssh: connection reset by peer");
    }
    if (host->hang_until_ns > now) {
      const int64_t wait = host->hang_until_ns - now;
      const int64_t hello_ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(hello_timeout_).count();
      if (hello_ns > 0 && wait >= hello_ns) {
        clock.SleepFor(std::chrono::nanoseconds(hello_ns));
        return DeadlineExceededError("the agent did not say hello within " +
                                     std::to_string(hello_timeout_.count()) + " ms");
      }
      clock.SleepFor(std::chrono::nanoseconds(wait));
    }
    const int64_t job_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(job_timeout_).count();
    auto takes = [&](double seconds) -> Status {
      const int64_t ns = static_cast<int64_t>(seconds * 1e9);
      if (job_ns > 0 && ns > job_ns) {
        clock.SleepFor(std::chrono::nanoseconds(job_ns));
        return DeadlineExceededError("no result within " + std::to_string(job_timeout_.count()) +
                                     " ms");
      }
      clock.SleepFor(std::chrono::nanoseconds(ns));
      return OkStatus();
    };
    const bool alive = host->workload_running && !host->workload_broken;
    if (job.command == "health") {
      RETURN_IF_ERROR(takes(0.05));
      nlohmann::json r = {{"clock_unix_ms", NowMillis(&clock)},
                          {"uptime_s", 100.0},
                          {"gpus", {"RTX 4090"}},
                          {"workload_alive", alive}};
      if (!job.health_url.empty() || !job.check_command.empty()) {
        r["workload_health"] = {{"ok", alive}, {"detail", alive ? "ok" : "not running"}};
      }
      return r;
    }
    if (job.command == "workload start") {
      RETURN_IF_ERROR(takes(0.2));
      const bool started = !host->workload_running;
      host->workload_running = true;
      return nlohmann::json{{"state", "running"}, {"pid", 4242}, {"started", started}};
    }
    if (job.command == "workload stop") {
      RETURN_IF_ERROR(takes(0.2));
      host->workload_running = false;
      return nlohmann::json{{"state", "stopped"}};
    }
    if (job.command == "snapshot") {
      if (host->snapshot_hangs && job_ns > 0) {
        // Slow but alive (its heartbeats keep coming): only a deadline ends it.
        host->snapshot_hangs = false;
        RETURN_IF_ERROR(takes(1e6));
      }
      RETURN_IF_ERROR(takes(host->snapshot_s));
      if (host->dead) return UnavailableError("ssh: connection lost");
      if (world_->store_down()) return UnavailableError("object store: 503 Slow Down");
      std::string id = "20300101T000000Z-sim" + std::to_string(++world_->snapshot_counter);
      world_->catalog.insert(id);
      return nlohmann::json{{"snapshot_id", id},
                            {"snapshot_type", "incremental"},
                            {"base_snapshot_id", world_->seeded_snapshot},
                            {"files_total", 3},
                            {"files_changed", 1},
                            {"bytes_total", 3000},
                            {"bytes_uploaded", 1000},
                            {"duration_ms", static_cast<int64_t>(host->snapshot_s * 1000)}};
    }
    if (job.command == "restore") {
      if (world_->store_down()) return UnavailableError("object store: 503 Slow Down");
      if (world_->catalog.count(job.snapshot_id) == 0) {
        return NotFoundError("snapshot " + job.snapshot_id + " not found in the repository");
      }
      for (int part = 1; part <= 4; ++part) {
        RETURN_IF_ERROR(takes(host->restore_s / 4));
        if (part == 2 && host->die_during_restore) {
          world_->KillHost(host->instance_id);
          world_->seen.replacement_died_mid_restore = true;
          return UnavailableError("ssh: connection lost (the host went away)");
        }
        if (part == 2 && host->fail_next_restore) {
          host->fail_next_restore = false;
          return UnavailableError("ssh: connection reset by peer mid-restore");
        }
        if (on_event) on_event(AgentEvent{"progress", {{"percent", part * 25.0}}});
      }
      host->restored = job.snapshot_id;
      return nlohmann::json{
          {"snapshot_id", job.snapshot_id}, {"files_restored", 3}, {"files_expected", 3},
          {"bytes_restored", 3000},         {"duration_ms", 1000}, {"validation", "ok"}};
    }
    if (job.command == "verify") {
      RETURN_IF_ERROR(takes(host->verify_s));
      const bool ok = host->restored == job.snapshot_id && !job.snapshot_id.empty();
      if (ok) host->validated = job.snapshot_id;
      return nlohmann::json{{"snapshot_id", job.snapshot_id},
                            {"validation", ok ? "ok" : "failed"},
                            {"files_restored", ok ? 3 : 0},
                            {"files_expected", 3}};
    }
    return InvalidArgumentError("the simulated agent has no job " + job.command);
  }

 private:
  World* world_;
  int port_;
};

class SimHosts : public TransportFactory {
 public:
  explicit SimHosts(World* world) : world_(world) {}
  std::unique_ptr<AgentTransport> Connect(const HostAddress& address) override {
    return std::make_unique<SimTransport>(world_, address.port);
  }

 private:
  World* world_;
};

}  // namespace

World::World(uint64_t seed)
    : rng_(seed),
      clock_(kStartNs, {.auto_advance = true, .quiet = std::chrono::microseconds(0)}),
      random_(rng_()),
      mem_(&clock_),
      store_(&mem_) {
  MarketProfile profile = VastLikeProfile();
  profile.offline_lag_s = 5;
  auto market = std::make_unique<SimulatedMarket>(profile, &clock_, rng_());
  market_ = market.get();
  auto state = SqlStateStore::Open([] { return OpenSqlite(":memory:"); }, "sqlite://:memory:", 1);
  if (!state)
    throw std::runtime_error("sim: cannot open SQLite in memory: " + state.error().message);
  state_ = std::move(*state);
  OpenedProvider opened;
  opened.provider = std::make_unique<SimProvider>(this, std::move(market));
  opened.controller = "sim";
  RaceOptions race;
  race.poll_interval = std::chrono::milliseconds(1000);
  race.parallel = false;
  fleet_ = std::make_unique<Fleet>(std::move(opened), std::make_unique<SimHosts>(this),
                                   state_.get(), &clock_, &random_, race, "root");
  ctx_.clock = &clock_;
  ctx_.random = &random_;
  ctx_.state = state_.get();
  ctx_.fleet = fleet_.get();
  ctx_.open_store = [this](const std::string&) -> Result<std::shared_ptr<ObjectStore>> {
    return std::shared_ptr<ObjectStore>(&store_, [](ObjectStore*) {});
  };
  ctx_.controller = "sim";
  ctx_.parallel = false;
  ctx_.max_concurrent_snapshots = 1;
  ctx_.log = [this](const std::string& line) { Trace(line); };
  mono_start_ns_ = clock_.MonotonicNanos();
}

World::~World() = default;

void World::Trace(const std::string& line) {
  const double t = static_cast<double>(clock_.MonotonicNanos() - mono_start_ns_) / 1e9;
  char at[32];
  std::snprintf(at, sizeof(at), "%8.1f  ", t);
  // The seeded snapshot's id is drawn once per process (by the snapshot engine, from the
  // system's randomness); a trace names it the same in every replay.
  std::string text = line;
  for (size_t at_id = 0; !seeded_snapshot.empty() &&
                         (at_id = text.find(seeded_snapshot, at_id)) != std::string::npos;) {
    text.replace(at_id, seeded_snapshot.size(), "<seeded snapshot>");
  }
  trace_.push_back(at + text);
}

SimHost* World::HostAt(int port) {
  // Direct endpoints are 20000 + id; proxy endpoints one above (sim market).
  for (int id : {port - 20000, port - 20001}) {
    auto it = hosts_.find(std::to_string(id));
    if (it == hosts_.end()) continue;
    auto instance = market_->Get(it->first);
    if (!instance || instance->state != InstanceState::kRunning) continue;
    return &it->second;
  }
  return nullptr;
}

void World::KillHost(const std::string& id) {
  auto it = hosts_.find(id);
  if (it == hosts_.end() || it->second.dead) return;
  it->second.dead = true;
  it->second.killed = true;
  market_->Kill(id).IgnoreError();
  Trace("world: machine " + id + " dies");
}

void World::OnCreated(const std::string& id) {
  SimHost host;
  host.instance_id = id;
  host.fail_next_restore = Uniform() < fail_restore_share;
  host.die_during_restore = Uniform() < die_restore_share;
  host.workload_broken = Uniform() < broken_workload_share;
  // A 4 GiB workspace at the rates docs/performance.md measured on this machine: restore
  // 1.21 s per GiB (local repository), validation 0.68 s per GiB; ±20%.
  host.restore_s = 4 * 1.21 * (0.8 + 0.4 * Uniform());
  host.verify_s = 4 * 0.68 * (0.8 + 0.4 * Uniform());
  host.snapshot_s = 1 + 4 * Uniform();
  hosts_[id] = host;
}

void World::OnDestroyed(const std::string& id) {
  auto it = hosts_.find(id);
  if (it == hosts_.end()) return;
  if (it->second.destroyed) return;  // a destroy of what is gone already changes nothing
  it->second.dead = true;
  it->second.destroyed = true;
  it->second.destroyed_ns = clock_.MonotonicNanos();
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

void SeedRepository(ObjectStore* into, const std::string& name, std::string* snapshot_id) {
  // Made once (a real snapshot of a small real directory), copied into each world.
  static std::once_flag once;
  static MemObjectStore* templ = nullptr;
  static std::string id;
  std::call_once(once, [&] {
    static FakeClock clock;
    templ = new MemObjectStore(&clock);
    TempDir dir;
    WriteFile(dir.Sub("ws/model.bin"), RandomBytes(64 << 10, 1));
    WriteFile(dir.Sub("ws/config.json"), "{\"layers\": 2}");
    WriteFile(dir.Sub("ws/step.txt"), "1");
    SnapshotOptions options;
    options.instance_id = name;
    options.workspace = dir.Sub("ws");
    options.threads = 1;
    options.clock = &clock;
    auto made = CreateSnapshot(templ, options);
    if (!made) throw std::runtime_error("sim: cannot seed the repository: " + made.error().message);
    id = made->header.snapshot_id;
  });
  std::string token;
  do {
    auto page = templ->List("", token);
    if (!page) throw std::runtime_error("sim: cannot list the seed repository");
    for (const auto& object : page->objects) {
      into->Put(object.key, *templ->Get(object.key)).IgnoreError();
    }
    token = page->next_token;
  } while (!token.empty());
  *snapshot_id = id;
}

}  // namespace standby::sim
