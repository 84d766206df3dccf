#include "tests/sim/sim_judge.h"

#include <algorithm>

namespace standby::sim {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
// After an unreachable old host answers again, the controller fences it within this: its
// cleanup task tries every probe interval, each try bounded by the probe timeout (3 s), one
// try may already be under way, and a failover's own fencing retries back off up to 15 s.
constexpr int64_t kFenceSlackNs = 20 * kSecond;
// No failover may run longer than this (3 machines, each a race, a restore and a check).
constexpr int64_t kFailoverBoundMs = 1'500'000;

}  // namespace

int64_t Judge::MonoOf(int64_t unix_ms) const { return w_->MonoOf(unix_ms); }

std::string Judge::EveryStep() {
  // The common case first, without allocating: no instance has two serving machines.
  const std::string* seen[8];
  size_t count = 0;
  bool twice = false;
  for (const auto& [id, h] : w_->hosts()) {
    if (!h.Serving()) continue;
    for (size_t i = 0; i < count && !twice; ++i) twice = *seen[i] == h.serves;
    if (twice) break;
    if (count < 8) seen[count++] = &h.serves;
  }
  if (!twice) return "";
  const int64_t now = w_->Now();
  std::map<std::string, std::vector<const SimHost*>> serving;
  for (const auto& [id, h] : w_->hosts()) {
    if (h.Serving()) serving[h.serves].push_back(&h);
  }
  for (const auto& [name, hosts] : serving) {
    if (hosts.size() < 2) continue;
    auto it = instances.find(name);
    if (it == instances.end() || it->second.unprotected) continue;
    const Instance& facts = it->second;
    if (facts.two_may_serve_until_ns > now) continue;  // make before break
    // Under fencing.unconfirmed = proceed, an old host the controller cannot reach may serve
    // on, and must be fenced soon after it can be reached again. Under `wait`, never.
    // Since when the controller could have fenced: the host reachable, a controller able
    // to act, its database up.
    int64_t able = controller_able_since_ns;
    for (const Window& w : w_->db_outages) {
      if (w.from_ns <= now) able = std::max(able, std::min(w.to_ns, now + 1));
    }
    int reachable = 0;
    std::string ids;
    for (const SimHost* h : hosts) {
      ids += " " + h->id;
      const int64_t since = std::max(h->UnreachableUntil(), able);
      const bool excused = facts.proceed && (controller_able_since_ns < 0 || since > now ||
                                             now - since <= kFenceSlackNs);
      reachable += excused ? 0 : 1;
    }
    if (reachable > 1 || !facts.proceed) {
      return "two machines serve " + name + ":" + ids +
             (facts.proceed ? " (both reachable by the controller)"
                            : " (fencing.unconfirmed = wait)");
    }
  }
  return "";
}

bool Judge::Warranted(const FailoverEvent& e) {
  if (e.trigger != "host_dead") return true;  // requests, drills, workload crash loops
  SimHost* host = w_->Host(e.original_instance_id);
  if (host == nullptr) {
    // An adopted host: found by its address.
    for (auto& [id, h] : w_->hosts()) {
      if (h.adopted && h.port == e.original_ssh_port) host = &h;
    }
  }
  if (host == nullptr || host->killed) return true;
  const int64_t detected = MonoOf(e.detected_at);
  // A failover that failed took the host (a retry replaces a machine already gone).
  if (host->destroyed && host->destroyed_ns <= detected) return true;
  if (!e.retry_of.empty()) return true;  // its first attempt was judged
  const auto& windows = silences[host->id];
  for (const Window& f : windows) {
    // A probe that began inside the window may end up to a timeout (3 s) after it.
    if (f.from_ns <= detected && detected <= f.to_ns + 3 * kSecond &&
        f.to_ns - f.from_ns >= 4 * kSecond) {
      return true;
    }
  }
  // The provider lied that it was offline (two listings) while probes failed for a while.
  int lies = 0;
  for (int64_t at : w_->offline_lies_ns[host->id]) {
    lies += at >= detected - 10 * kSecond && at <= detected ? 1 : 0;
  }
  if (lies >= 2) {
    for (const Window& f : windows) {
      if (f.from_ns <= detected && detected <= f.to_ns + 3 * kSecond) return true;
    }
  }
  return false;
}

std::string Judge::CheckFailover(const FailoverEvent& e, Coverage* coverage,
                                 std::vector<int64_t>* mttr_ms) {
  if (e.completed_at == 0) {
    if (NowMillis(&w_->sched()) - e.started_at > kFailoverBoundMs) {
      return "failover " + e.failover_id + " of " + e.instance_id + " still runs after " +
             std::to_string(kFailoverBoundMs / 1000) + " s (phase " + e.phase + ")";
    }
    return "";
  }
  if (!finished_.insert(e.failover_id).second) return "";
  if (e.success) {
    SimHost* host = w_->Host(e.new_instance_id);
    if (host == nullptr || e.snapshot_id.empty()) {
      return "failover " + e.failover_id + " finished on a machine the world does not know";
    }
    // The new host serves the snapshot's exact content, validated there.
    if (host->restored != e.snapshot_id || host->corrupt || host->validated != e.snapshot_id ||
        w_->catalog.count(e.snapshot_id) == 0) {
      return "failover " + e.failover_id + " of " + e.instance_id + " finished but " + host->id +
             " does not hold the snapshot's exact content (" + e.snapshot_id +
             (host->corrupt ? ": its restore silently left wrong bytes" : "") + ")";
    }
    if (e.trigger == "host_dead" && mttr_ms != nullptr) mttr_ms->push_back(e.total_ms);
    if (e.planned && e.workload_stopped_at > 0) coverage->hits["planned move (pre-copy)"] = 1;
    if (e.no_stop) coverage->hits["make before break (--no-stop)"] = 1;
    if (e.trigger != "initial" && w_->options().pool)
      coverage->hits["pool instance failed over"] = 1;
    if (e.trigger != "initial" && e.original_instance_id.empty() && !e.original_ssh_host.empty()) {
      coverage->hits["adopted --ssh host failed over"] = 1;
    }
  } else if (e.failure_phase == "final_snapshot" && e.planned) {
    coverage->hits["planned move abandoned (its final snapshot failed)"] = 1;
  }
  if (e.fence == "pending") coverage->hits["fence unconfirmed: pending (proceed)"] = 1;
  if (e.phase_timings_json.find("validation failed") != std::string::npos ||
      e.note.find("validation failed") != std::string::npos) {
    coverage->hits["silent corruption caught by validation"] = 1;
  }
  return "";
}

std::string Judge::CheckServedMachines(const std::vector<FailoverEvent>& events) {
  // Only a failover fences: no machine that served is destroyed otherwise (renting on
  // suspicion never touches the host under suspicion).
  for (const std::string& id : primaries_) {
    SimHost* host = w_->Host(id);
    if (host == nullptr || !host->destroyed || destroyed_by_unprotect.contains(id)) continue;
    bool fenced = false;
    for (const FailoverEvent& e : events) {
      // (started_at is in whole milliseconds)
      fenced |=
          e.original_instance_id == id && MonoOf(e.started_at) <= host->destroyed_ns + 1'000'000;
    }
    if (!fenced) return "machine " + id + " served and was destroyed without a failover of it";
  }
  return "";
}

std::string Judge::EveryRound(Coverage* coverage, std::vector<int64_t>* mttr_ms) {
  auto rows = w_->db()->ListProtectedInstances();
  if (!rows) return "the database failed: " + rows.error().message;
  rows_ = std::move(*rows);
  bool moved = ++rounds_ % 10 == 0;
  for (const ProtectedInstance& row : rows_) {
    if (row.version < versions_[row.instance_id]) {
      return row.instance_id + ": its version went back from " +
             std::to_string(versions_[row.instance_id]) + " to " + std::to_string(row.version);
    }
    // A failover begins or ends with its instance's state or last failover.
    const std::string marks = row.status + "/" + row.last_failover_id;
    moved |= marks != marks_[row.instance_id];
    marks_[row.instance_id] = marks;
    versions_[row.instance_id] = row.version;
    if (SimHost* p = PrimaryOf(row); p != nullptr) primaries_.insert(p->id);
  }
  // Every failover row is read again when an instance's row changed (a failover began or
  // ended with it) or every ten rounds (an abandoned placement, a fence confirmed later);
  // in between, only the running ones.
  if (moved) {
    auto events = w_->db()->ListFailoverEvents();
    if (!events) return "the database failed: " + events.error().message;
    events_ = std::move(*events);
  } else if (anything_running_) {
    auto running = w_->db()->ListFailoverEvents({.unfinished_only = true});
    if (!running) return "the database failed: " + running.error().message;
    std::map<std::string, FailoverEvent*> by_id;
    for (FailoverEvent& e : events_) by_id[e.failover_id] = &e;
    std::set<std::string> still;
    for (FailoverEvent& e : *running) still.insert(e.failover_id);
    bool lost = false;  // one that ran has ended: read them all
    for (auto& [id, e] : by_id) lost |= e->completed_at == 0 && !still.contains(id);
    if (lost) {
      auto events = w_->db()->ListFailoverEvents();
      if (!events) return "the database failed: " + events.error().message;
      events_ = std::move(*events);
    } else {
      for (FailoverEvent& e : *running) {
        auto it = by_id.find(e.failover_id);
        if (it != by_id.end()) {
          *it->second = std::move(e);
        } else {
          events_.push_back(std::move(e));
        }
      }
    }
  }
  running_.clear();
  anything_running_ = false;
  std::map<std::string, int> started_running;
  for (const FailoverEvent& e : events_) {
    anything_running_ |= e.completed_at == 0;
    if (e.fence == "waiting") coverage->hits["fence unconfirmed: waiting (wait)"] = 1;
    if (e.completed_at == 0 && e.phase != "detected") {
      running_.insert(e.instance_id);
      if (++started_running[e.instance_id] > 1) {
        return "two failovers of " + e.instance_id + " run at once";
      }
    }
    if (judged_.insert(e.failover_id).second && !Warranted(e)) {
      return "failover " + e.failover_id + " (" + e.trigger +
             ") of a machine that never failed "
             "long enough: " +
             e.note;
    }
    if (std::string v = CheckFailover(e, coverage, mttr_ms); !v.empty()) return v;
  }
  if (std::string v = CheckServedMachines(events_); !v.empty()) return v;
  // One process acts on a failover at a time: once another process has raced for it, the
  // one before it never rents for it again.
  for (const auto& [failover, creates] : w_->failover_creates) {
    std::set<std::string> handed_over;
    for (size_t i = 1; i < creates.size(); ++i) {
      const auto& a = creates[i - 1];
      const auto& b = creates[i];
      if (handed_over.contains(b.process)) {
        return "two processes ran failover " + failover + " (" + b.process +
               " rented for it again after another process had taken it over)";
      }
      if (a.process != b.process) handed_over.insert(a.process);
    }
  }
  // The reaper removes what a killed process left, or a race whose process had to stop
  // (its claim could not be renewed); anything else it finds leaked.
  const auto& trace = w_->trace();
  for (; reaper_lines_ < trace.size(); ++reaper_lines_) {
    const std::string& line = trace[reaper_lines_];
    any_halt_ |= line.find("cannot renew its claim") != std::string::npos ||
                 line.find("another process holds its claim") != std::string::npos;
    if (!any_kill && !any_halt_ &&
        line.find("reaper: destroyed orphan instance") != std::string::npos) {
      return "a machine leaked (the reaper found it): " + line;
    }
  }
  for (const auto& [process, calls] : w_->provider_calls_ns) {
    size_t& checked = calls_checked_[process];
    for (checked = std::max<size_t>(checked, 1); checked < calls.size(); ++checked) {
      if (calls[checked] - calls[checked - 1] < 200'000'000) {
        return "provider calls of " + process + " 200 ms apart or less: the rate limit broke";
      }
    }
  }
  return "";
}

SimHost* Judge::PrimaryOf(const ProtectedInstance& row) {
  if (!row.provider_instance_id.empty()) return w_->Host(row.provider_instance_id);
  for (auto& [id, h] : w_->hosts()) {
    if (h.adopted && h.port == row.ssh_port && !row.ssh_host.empty()) return &h;
  }
  return nullptr;
}

bool Judge::Quiet(std::string* why) {
  auto rows = w_->db()->ListProtectedInstances();
  auto pending = w_->db()->ListFailoverEvents({.cleanup_pending_only = true});
  auto unfinished = w_->db()->ListFailoverEvents({.unfinished_only = true});
  auto owned = w_->db()->ListProviderInstances();
  if (!rows || !pending || !unfinished || !owned) {
    *why = "the database failed";
    return false;
  }
  std::set<std::string> primaries;
  for (const ProtectedInstance& row : *rows) {
    SimHost* primary = PrimaryOf(row);
    std::vector<std::string> serving;
    for (const auto& [id, h] : w_->hosts()) {
      if (h.Serving() && h.serves == row.instance_id) serving.push_back(id);
    }
    if (row.status != "healthy" || primary == nullptr || serving.size() != 1 ||
        serving[0] != primary->id) {
      *why = row.instance_id + " is " + row.status + " on " +
             (primary ? primary->id : std::string("no known machine")) + ", served by " +
             std::to_string(serving.size()) + " machine(s)";
      for (const std::string& s : serving) *why += " " + s;
      return false;
    }
    if (!primary->adopted) primaries.insert(primary->id);
  }
  if (!unfinished->empty()) {
    *why = "failover " + unfinished->front().failover_id + " is unfinished (" +
           unfinished->front().phase + ")";
    return false;
  }
  if (!pending->empty()) {
    *why = "failover " + pending->front().failover_id + " left its fence " +
           pending->front().fence + (pending->front().leftovers_pending ? " and leftovers" : "");
    return false;
  }
  for (const ProviderInstanceRow& r : *owned) {
    if (r.destroyed_at == 0 && r.destroy_pending_at > 0) {
      *why = "the destroy of " + r.provider_instance_id + " is still pending: " + r.destroy_error;
      return false;
    }
  }
  auto live = w_->market()->List("");
  if (!live) {
    *why = "the market failed";
    return false;
  }
  for (const standby::Instance& i : *live) {
    if (!primaries.contains(i.id)) {
      *why = "machine " + i.id + " is rented and serves no protected instance";
      return false;
    }
  }
  return true;
}

}  // namespace standby::sim
