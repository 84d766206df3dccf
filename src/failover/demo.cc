#include "failover/demo.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include "base/strings.h"
#include "env/http_client.h"
#include "env/loopback.h"
#include "failover/controller.h"
#include "failover/demo_workspace.h"
#include "failover/drill.h"
#include "failover/operations.h"
#include "failover/runtime.h"

namespace standby {
namespace {

using nlohmann::json;

constexpr const char* kName = "demo-llm";

// The demo's own configuration: the embedded defaults under its directory, whatever the
// environment says (flags win over every other layer).
Result<Config> DemoConfig(const std::string& dir) {
  ConfigInputs inputs;
  const std::string database = "sqlite://" + JoinPath(dir, "state/standby.db");
  inputs.env = [database](const std::string& name) {
    return name == "DATABASE_URL" ? std::optional<std::string>(database) : std::nullopt;
  };
  inputs.dotenv_path = "";
  inputs.flags = {{"state_dir", JoinPath(dir, "state")},
                  {"repo", JoinPath(dir, "repo")},
                  {"provider", "local"},
                  {"market", "fast"},
                  {"controller", "demo"}};
  return Config::Load(inputs);
}

std::string Seconds(int64_t ms) {
  char text[32];
  std::snprintf(text, sizeof(text), "%6.1f s", static_cast<double>(ms) / 1000.0);
  return text;
}

class Demo {
 public:
  explicit Demo(const DemoOptions& options) : o_(options) {}

  Result<json> Run() {
    ASSIGN_OR_RETURN(Config config, DemoConfig(o_.dir));
    ASSIGN_OR_RETURN(runtime_, OpenControllerRuntime(config));
    clock_ = runtime_->ctx.clock;
    auto result = Body();
    // Whatever happened, nothing stays rented.
    if (auto left = runtime_->fleet->Instances(/*all=*/false)) {
      for (const FleetInstance& f : *left) (void)runtime_->fleet->Destroy(f.instance.id);
    }
    return result;
  }

 private:
  Result<json> Body() {
    ControllerContext* ctx = &runtime_->ctx;
    ctx->log = [this](const std::string& line) { Timeline(line); };
    Say("standby demo: protect a GPU host, snapshot it, kill it, and watch the controller "
        "fail over (in " +
        o_.dir + ")");

    // 1. A host with a workspace, protected with its workload.
    Pause("rent a GPU host on the local market");
    ProvisionRequest rent;
    rent.filter.gpu_names = {"RTX 4090"};
    rent.purpose = "demo";
    rent.instance_id = kName;
    rent.role = "primary";
    ASSIGN_OR_RETURN(ProvisionOutcome rented, runtime_->fleet->Provision(rent));
    if (!rented.race.winner) return UnavailableError("no machine of the local market became ready");
    const Instance host = *rented.race.winner;
    Say("1. rented " + host.id + " (" + host.gpu_name + ") in " +
        Seconds(static_cast<int64_t>(rented.race.elapsed_s * 1000)) + ", " +
        std::to_string(rented.race.candidates.size()) + " candidates raced");
    const std::string workspace = runtime_->fleet->local_market()->HostDir(host.id) + "/workspace";
    std::mt19937_64 rng(42);
    RETURN_IF_ERROR(GenerateWorkspace(FileSystem::Real(), workspace, o_.workspace_bytes, &rng));
    Say("2. generated a " + HumanBytes(o_.workspace_bytes) + " workspace on " + host.id +
        ":/workspace (weights, checkpoint, data, and src/serve.py, the inference stand-in)");

    port_ = FreeLoopbackPort();
    ProtectionSpec spec;
    spec.name = kName;
    spec.repo = JoinPath(o_.dir, "repo");
    spec.filter.gpu_names = {"RTX 4090"};
    spec.workload.command = "exec python3 src/serve.py " + std::to_string(port_);
    spec.workload.health_url = "http://127.0.0.1:" + std::to_string(port_) + "/health";
    spec.snapshot_every = std::chrono::seconds(3);
    spec.keep_last = 4;
    spec.policy.health_timeout = std::chrono::seconds(60);
    Pause("protect it: the agent starts the workload");
    ASSIGN_OR_RETURN(ProtectedInstance protected_row,
                     Protect(ctx, spec, {host.id, std::nullopt, false}, nullptr));
    Say("3. protected " + std::string(kName) + " on " + protected_row.ssh_host + ":" +
        std::to_string(protected_row.ssh_port) + "; the controller takes over");

    Controller controller(ctx, {.interval = std::chrono::milliseconds(500)});
    RETURN_IF_ERROR(controller.Start());
    std::atomic<bool> stop{false};
    std::thread serving([&] { controller.Run(stop).IgnoreError(); });
    auto stopped = Finally([&] {
      stop = true;
      if (serving.joinable()) serving.join();
    });

    ASSIGN_OR_RETURN(std::string before, Ask(std::chrono::seconds(60)));
    Say("4. the workload answers: " + before.substr(0, 60) + "...");
    ASSIGN_OR_RETURN(SnapshotRow full, WaitForSnapshot("", std::chrono::seconds(60)));
    Say("5. periodic snapshot " + full.snapshot_id + " (" + full.snapshot_type +
        "): " + std::to_string(full.files_total) + " files, " +
        HumanBytes(static_cast<uint64_t>(full.bytes_uploaded)) + " uploaded");
    Pause("run a training step; the next periodic snapshot is incremental");
    RETURN_IF_ERROR(TrainingStep(FileSystem::Real(), workspace, o_.workspace_bytes, &rng));
    ASSIGN_OR_RETURN(SnapshotRow incremental,
                     WaitForSnapshot(full.snapshot_id, std::chrono::seconds(60)));
    Say("6. periodic snapshot " + incremental.snapshot_id + " (" + incremental.snapshot_type +
        "): " + std::to_string(incremental.files_changed) + " of " +
        std::to_string(incremental.files_total) + " files changed, " +
        HumanBytes(static_cast<uint64_t>(incremental.bytes_uploaded)) + " uploaded");

    Pause("kill the host");
    {
      std::lock_guard<std::mutex> lock(mu_);
      killed_ns_ = clock_->MonotonicNanos();
    }
    RETURN_IF_ERROR(runtime_->fleet->Kill(host.id));
    Say("7. killed " + host.id +
        ": its sshd, agent and workload are gone. The controller's "
        "timeline:");
    ASSIGN_OR_RETURN(FailoverEvent event, WaitForFailover(std::chrono::seconds(180)));
    if (!event.success) {
      return UnavailableError("the failover failed while " + event.failure_phase + ": " +
                              event.failure_reason);
    }
    ASSIGN_OR_RETURN(std::string after, Ask(std::chrono::seconds(30)));
    const int64_t down_ms = (clock_->MonotonicNanos() - killed_ns_) / 1'000'000;
    const bool same = after == before;
    Say(std::string("8. ") + event.new_instance_id + " answers the same question " +
        (same ? "with the same answer: the restore is complete" : "DIFFERENTLY: restore is wrong"));
    PrintTable(event);
    Say("   from the kill to the new host answering: " + Seconds(down_ms) +
        " (the kill is seen at the first probe after it; MTTR counts from that probe)");

    stop = true;
    serving.join();
    RETURN_IF_ERROR(Unprotect(ctx, kName, /*destroy=*/true));
    ASSIGN_OR_RETURN(auto left, runtime_->fleet->Instances(/*all=*/false));
    Say("9. unprotected and destroyed " + event.new_instance_id +
        "; instances left: " + std::to_string(left.size()));
    json summary = {{"answer_matches", same},
                    {"leaked_instances", left.size()},
                    {"failover", FailoverEventJson(event)},
                    {"full_snapshot", full.snapshot_id},
                    {"incremental_snapshot", incremental.snapshot_id},
                    {"dir", o_.dir}};
    if (!same) return CorruptionError("the new host answers differently from the old one");
    if (!left.empty()) {
      return InternalError(std::to_string(left.size()) + " instance(s) leaked, e.g. " +
                           left.front().instance.id);
    }
    return summary;
  }

  template <class F>
  struct Cleanup {
    F f;
    ~Cleanup() { f(); }
  };
  template <class F>
  static Cleanup<F> Finally(F f) {
    return Cleanup<F>{std::move(f)};
  }

  void Say(const std::string& line) { o_.say(line); }
  void Pause(const std::string& next) {
    if (o_.pause) o_.pause(next);
  }

  // The controller's log: shown as a timeline from the kill once the host is dead.
  void Timeline(const std::string& line) {
    std::lock_guard<std::mutex> lock(mu_);
    if (killed_ns_ < 0) return;
    char stamp[32];
    std::snprintf(stamp, sizeof(stamp), "   +%5.1f s  ",
                  static_cast<double>(clock_->MonotonicNanos() - killed_ns_) / 1e9);
    o_.say(stamp + line);
  }

  // GET /infer on the workload, retried until it answers (bounded).
  Result<std::string> Ask(std::chrono::seconds within) {
    auto http = MakeHttpClient();
    const int64_t deadline = clock_->MonotonicNanos() + std::chrono::nanoseconds(within).count();
    std::string last = "no answer";
    while (clock_->MonotonicNanos() < deadline) {
      HttpRequest request;
      request.tls = false;
      request.host = "127.0.0.1";
      request.port = static_cast<uint16_t>(port_);
      request.target = "/infer";
      request.timeout = std::chrono::seconds(2);
      auto response = http->Send(request);
      if (response && response->status == 200) return response->body;
      last = response ? "status " + std::to_string(response->status) : response.error().message;
      clock_->SleepFor(std::chrono::milliseconds(200));
    }
    return UnavailableError("the workload did not answer /infer within " +
                            std::to_string(within.count()) + " s (" + last + ")");
  }

  Result<SnapshotRow> WaitForSnapshot(const std::string& after, std::chrono::seconds within) {
    const int64_t deadline = clock_->MonotonicNanos() + std::chrono::nanoseconds(within).count();
    while (clock_->MonotonicNanos() < deadline) {
      ASSIGN_OR_RETURN(auto rows, runtime_->state->ListSnapshots(kName));
      if (!rows.empty() && rows.back().snapshot_id != after) return rows.back();
      clock_->SleepFor(std::chrono::milliseconds(200));
    }
    return DeadlineExceededError("the periodic scheduler took no snapshot within " +
                                 std::to_string(within.count()) + " s");
  }

  Result<FailoverEvent> WaitForFailover(std::chrono::seconds within) {
    const int64_t deadline = clock_->MonotonicNanos() + std::chrono::nanoseconds(within).count();
    while (clock_->MonotonicNanos() < deadline) {
      ASSIGN_OR_RETURN(auto events, ListEvents(&runtime_->ctx, kName));
      for (const FailoverEvent& e : events) {
        if (e.trigger != "initial" && e.completed_at > 0) return e;
      }
      clock_->SleepFor(std::chrono::milliseconds(200));
    }
    return DeadlineExceededError("no failover finished within " + std::to_string(within.count()) +
                                 " s of the kill");
  }

  void PrintTable(const FailoverEvent& e) {
    Say("");
    for (const std::string& line : MttrTable(e, "this demo", nullptr)) Say("   " + line);
    Say("   (MTTR: from the first failed probe to a passing health check)");
    Say("");
  }

  const DemoOptions& o_;
  std::unique_ptr<ControllerRuntime> runtime_;
  Clock* clock_ = nullptr;
  int port_ = 0;
  std::mutex mu_;
  int64_t killed_ns_ = -1;
};

}  // namespace

Result<json> RunDemo(const DemoOptions& options) {
  Demo demo(options);
  return demo.Run();
}

}  // namespace standby
