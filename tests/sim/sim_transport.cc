#include "tests/sim/sim_transport.h"

#include "tests/sim/sim_world.h"

namespace standby::sim {

Status SimTransport::Takes(double seconds) {
  DeterministicScheduler& clock = world_->sched();
  const int64_t ns = static_cast<int64_t>(seconds * 1e9);
  const int64_t job_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(job_timeout_).count();
  const int64_t wait = job_ns > 0 ? std::min(ns, job_ns) : ns;
  static const std::atomic<bool> kNever{false};
  if (!clock.SleepUnless(std::chrono::nanoseconds(wait), cancel_ ? *cancel_ : kNever)) {
    return UnavailableError("the job was cancelled; the agent was told to stop");
  }
  if (wait < ns) {
    return DeadlineExceededError("no result within " + std::to_string(job_timeout_.count()) +
                                 " ms");
  }
  return OkStatus();
}

Result<nlohmann::json> SimTransport::RunJob(
    const AgentJob& job, const std::function<void(const AgentEvent&)>& on_event) {
  DeterministicScheduler& clock = world_->sched();
  const std::string where = "ssh " + address_.Describe();
  SimHost* host = world_->HostAt(address_.port);
  if (host == nullptr || host->dead) {
    return UnavailableError(where + ": connection refused");
  }
  const int64_t now = clock.MonotonicNanos();
  const auto connect = address_.connect_timeout.count() > 0 ? address_.connect_timeout
                       : hello_timeout_.count() > 0         ? hello_timeout_
                                                            : std::chrono::milliseconds(10000);
  if (host->partition_until_ns > now) {
    clock.SleepFor(connect);
    return DeadlineExceededError(where + ": connection timed out");
  }
  if (host->drop_until_ns > now) return UnavailableError(where + ": connection reset by peer");
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
  // The host may have died or been cut off while this job waited.
  host = world_->HostAt(address_.port);
  if (host == nullptr || host->dead) return UnavailableError(where + ": connection lost");
  const bool alive =
      host->workload_running && !host->workload_broken && host->serves == job.instance_id;
  if (job.command == "health") {
    RETURN_IF_ERROR(Takes(0.05));
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
    RETURN_IF_ERROR(Takes(0.2));
    if (host->dead) return UnavailableError(where + ": connection lost");
    const bool started = !alive;
    host->serves = job.instance_id;
    host->workload_running = true;
    return nlohmann::json{{"state", "running"}, {"pid", 4242}, {"started", started}};
  }
  if (job.command == "workload stop") {
    RETURN_IF_ERROR(Takes(0.2));
    if (host->dead) return UnavailableError(where + ": connection lost");
    if (host->serves == job.instance_id) host->workload_running = false;
    return nlohmann::json{{"state", "stopped"}};
  }
  if (job.command == "snapshot") {
    if (host->snapshot_hangs && job_timeout_.count() > 0) {
      // Slow but alive (its heartbeats keep coming): only a deadline ends it.
      host->snapshot_hangs = false;
      RETURN_IF_ERROR(Takes(1e6));
    }
    RETURN_IF_ERROR(Takes(host->snapshot_s));
    if (host->dead) return UnavailableError(where + ": connection lost");
    if (world_->store_down()) return UnavailableError("object store: 503 Slow Down");
    std::string id = "20300101T000000Z-sim" + std::to_string(++world_->snapshot_counter);
    world_->catalog.insert(id);
    return nlohmann::json{{"snapshot_id", id},
                          {"snapshot_type", "incremental"},
                          {"base_snapshot_id", host->restored},
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
      RETURN_IF_ERROR(Takes(host->restore_s / 4));
      if (host->dead) return UnavailableError(where + ": connection lost");
      if (part == 2 && host->die_during_restore) {
        world_->KillHost(host->id);
        world_->seen.replacement_died_mid_restore = true;
        return UnavailableError(where + ": connection lost (the host went away)");
      }
      if (part == 2 && host->fail_next_restore) {
        host->fail_next_restore = false;
        return UnavailableError(where + ": connection reset by peer mid-restore");
      }
      if (on_event) on_event(AgentEvent{"progress", {{"percent", part * 25.0}}});
    }
    host->restored = job.snapshot_id;
    // A full disk, a flipped bit, a host that lies: it reports success all the same.
    host->corrupt = host->corrupt_next_restore;
    host->corrupt_next_restore = false;
    if (host->corrupt) world_->seen.silent_corruption = true;
    return nlohmann::json{
        {"snapshot_id", job.snapshot_id}, {"files_restored", 3}, {"files_expected", 3},
        {"bytes_restored", 3000},         {"duration_ms", 1000}, {"validation", "ok"}};
  }
  if (job.command == "verify") {
    RETURN_IF_ERROR(Takes(host->verify_s));
    if (host->dead) return UnavailableError(where + ": connection lost");
    const bool ok = host->restored == job.snapshot_id && !job.snapshot_id.empty() && !host->corrupt;
    if (ok) host->validated = job.snapshot_id;
    return nlohmann::json{{"snapshot_id", job.snapshot_id},
                          {"validation", ok ? "ok" : "failed"},
                          {"files_restored", ok ? 3 : 2},
                          {"files_expected", 3}};
  }
  return InvalidArgumentError("the simulated agent has no job " + job.command);
}

}  // namespace standby::sim
