#include "provider/local_market.h"

#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/strings.h"
#include "env/child_process_env.h"
#include "env/clock.h"
#include "env/file_system.h"
#include "env/local_sshd.h"
#include "env/loopback.h"
#include "env/random.h"

namespace standby {
namespace {

using nlohmann::json;

// Offers (ids, prices) are the same in every command; fates differ per process.
constexpr uint64_t kOffersSeed = 0x6d61726b6574;

int64_t NowMs() { return Clock::Real()->Now() / 1'000'000; }

bool Alive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

std::string CurrentUser() {
  passwd* pw = ::getpwuid(::geteuid());
  return pw ? pw->pw_name : "root";
}

Result<json> ReadRecord(const std::string& dir) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(FileSystem::Real(), dir + "/instance.json"));
  try {
    return json::parse(text);
  } catch (const std::exception& e) {
    return CorruptionError(dir + "/instance.json: " + e.what());
  }
}

Status WriteRecord(const std::string& dir, const json& record) {
  return WriteFileAtomically(FileSystem::Real(), dir + "/instance.json", record.dump(2) + "\n");
}

// The host's supervisor, only while the pid in supervisor.pid still is that supervisor
// (`standby market-host DIR`): a stale pid reused by another process is never signalled.
pid_t SupervisorPid(const std::string& dir) {
  auto text = ReadFileToString(FileSystem::Real(), dir + "/supervisor.pid");
  if (!text) return -1;
  auto pid = ParseUint(TrimWhitespace(*text));
  if (!pid || *pid <= 1 || *pid > (1u << 22)) return -1;
  auto cmdline = ReadFileToString(FileSystem::Real(), "/proc/" + std::to_string(*pid) + "/cmdline");
  if (!cmdline) return -1;
  std::vector<std::string> argv = SplitString(*cmdline, '\0');
  if (argv.size() < 3 || argv[1] != "market-host" || argv[2] != dir) return -1;
  return static_cast<pid_t>(*pid);
}

}  // namespace

Status EnterHostMountNamespace(const std::string& host_dir) {
  const std::string workspace = host_dir + "/workspace";
  if (::mkdir(kHostWorkspace, 0755) != 0 && errno != EEXIST) {
    return ErrnoError(errno, std::string("create the mount point ") + kHostWorkspace);
  }
  if (::unshare(CLONE_NEWNS) != 0 ||
      ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      ::mount(workspace.c_str(), kHostWorkspace, nullptr, MS_BIND, nullptr) != 0) {
    return PermissionDeniedError(
        std::string("the local market cannot give its hosts their own ") + kHostWorkspace +
        " (mount namespace: " + std::strerror(errno) +
        "); it needs root or CAP_SYS_ADMIN. Without it, use hosts of your own: --provider pool");
  }
  return OkStatus();
}

LocalMarket::LocalMarket(MarketProfile profile, std::string market_dir, std::string standby_binary,
                         std::string authorized_key)
    : profile_(std::move(profile)),
      hosts_dir_(JoinPath(market_dir, "hosts")),
      standby_binary_(std::move(standby_binary)),
      authorized_key_(std::move(authorized_key)),
      offers_(std::make_unique<SimulatedMarket>(profile_, Clock::Real(), kOffersSeed)) {
  offers_->ReseedFates(Random::Real()->Next());
}

std::string LocalMarket::HostDir(const std::string& id) const { return JoinPath(hosts_dir_, id); }

Result<std::vector<Offer>> LocalMarket::SearchOffers(const OfferFilter& filter) {
  ASSIGN_OR_RETURN(auto offers, offers_->SearchOffers(filter));
  ASSIGN_OR_RETURN(auto live, List(""));
  std::vector<Offer> out;
  for (Offer& o : offers) {
    bool rented = false;
    for (const Instance& i : live) rented = rented || i.machine_id == o.machine_id;
    if (!rented) out.push_back(std::move(o));
  }
  return out;
}

Result<Instance> LocalMarket::Create(const Offer& offer, const LaunchSpec& spec) {
  ASSIGN_OR_RETURN(auto available, SearchOffers({}));
  bool found = false;
  for (const Offer& o : available) found = found || o.offer_id == offer.offer_id;
  if (!found) return NotFoundError("offer " + offer.offer_id + " is no longer available");
  FileSystem* fs = FileSystem::Real();
  RETURN_IF_ERROR(MakeDirs(fs, hosts_dir_, 0700));
  std::string id, dir;
  for (int attempt = 0; attempt < 100 && id.empty(); ++attempt) {
    std::string candidate = std::to_string(100000 + Random::Real()->Below(900000));
    if (fs->MakeDir(HostDir(candidate), 0700)) id = candidate;
  }
  if (id.empty()) return InternalError("cannot allocate a local instance id");
  dir = HostDir(id);
  SimulatedMarket::Fate fate = offers_->DrawFate();
  json record = {
      {"id", id},
      {"machine_id", offer.machine_id},
      {"offer_id", offer.offer_id},
      {"gpu_name", offer.gpu_name},
      {"price_per_hour", offer.price_per_hour},
      {"label", spec.label},
      {"image", spec.image},
      {"created_unix_ms", NowMs()},
      {"ready_after_s", std::isinf(fate.ready_after_s) ? json(nullptr) : json(fate.ready_after_s)},
      {"exits_after_s", fate.exits_after_s},
      {"offline_lag_s", profile_.offline_lag_s * profile_.time_scale},
      {"port", FreeLoopbackPort()},
      {"user", CurrentUser()}};
  RETURN_IF_ERROR(MakeDirs(fs, dir + "/home", 0755));
  RETURN_IF_ERROR(MakeDirs(fs, dir + "/workspace", 0755));
  RETURN_IF_ERROR(
      PrepareLocalSshd({dir + "/sshd", dir + "/home", record["port"].get<int>(), authorized_key_}));
  RETURN_IF_ERROR(WriteRecord(dir, record));

  // The supervisor: its own session, so it outlives this command.
  SpawnAttributes attr(POSIX_SPAWN_SETSID);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::string log = dir + "/supervisor.log";
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<std::string> args = {standby_binary_, "market-host", dir};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  ChildEnvironment env;  // never the controller's secrets
  int rc =
      posix_spawn(&pid, standby_binary_.c_str(), &actions, attr.get(), argv.data(), env.envp());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    RemoveAll(fs, dir).IgnoreError();
    return ErrnoError(rc, "start the host supervisor " + standby_binary_);
  }
  RETURN_IF_ERROR(WriteFileAtomically(fs, dir + "/supervisor.pid", std::to_string(pid) + "\n"));
  return Load(id);
}

Result<Instance> LocalMarket::Load(const std::string& id) const {
  RETURN_IF_ERROR(ValidateProviderId(id));
  std::string dir = HostDir(id);
  auto record = ReadRecord(dir);
  if (!record) {
    if (record.error().code == ErrorCode::kNotFound) {
      return NotFoundError("local instance " + id + " not found");
    }
    return record.error();
  }
  const json& r = *record;
  Instance out;
  out.id = id;
  out.machine_id = r.value("machine_id", "");
  out.gpu_name = r.value("gpu_name", "");
  out.price_per_hour = r.value("price_per_hour", 0.0);
  out.label = r.value("label", "");
  out.created_unix_ms = r.value("created_unix_ms", int64_t{0});
  double age = (NowMs() - out.created_unix_ms) / 1000.0;
  int64_t killed = r.value("killed_unix_ms", int64_t{0});
  double exits = r.value("exits_after_s", -1.0);
  bool ready_file = FileSystem::Real()->Lstat(dir + "/sshd.ready").has_value();
  if (killed > 0) {
    bool noticed = (NowMs() - killed) / 1000.0 >= r.value("offline_lag_s", 5.0);
    out.state = noticed ? InstanceState::kOffline
                        : (ready_file ? InstanceState::kRunning : InstanceState::kLoading);
  } else if (exits >= 0 && age >= exits) {
    out.state = InstanceState::kExited;
    out.status_message = "Error: container process exited unexpectedly";
  } else if (auto failed = ReadFileToString(FileSystem::Real(), dir + "/failed")) {
    out.state = InstanceState::kExited;
    out.status_message = *failed;
  } else if (!Alive(SupervisorPid(dir))) {
    out.state = InstanceState::kOffline;
    out.status_message = "host supervisor is gone";
  } else if (ready_file) {
    out.state = InstanceState::kRunning;
  } else {
    out.state = InstanceState::kLoading;
  }
  if (out.status_message.empty()) out.status_message = std::string(InstanceStateName(out.state));
  // The address stays known once the host is gone (as Vast reports it), so whoever destroys
  // the instance can forget what it pinned for that address.
  if (out.state != InstanceState::kLoading) {
    out.ssh.push_back({"127.0.0.1", static_cast<uint16_t>(r.value("port", 22)), "direct",
                       r.value("user", "root")});
  }
  return out;
}

Result<Instance> LocalMarket::Get(const std::string& id) { return Load(id); }

Result<std::vector<Instance>> LocalMarket::List(const std::string& label_prefix) {
  std::vector<Instance> out;
  auto names = FileSystem::Real()->ListDir(hosts_dir_);
  if (!names) {
    if (names.error().code == ErrorCode::kNotFound) return out;
    return names.error();
  }
  for (const std::string& name : *names) {
    auto instance = Load(name);
    if (instance && instance->label.starts_with(label_prefix)) out.push_back(std::move(*instance));
  }
  std::sort(out.begin(), out.end(), [](const Instance& a, const Instance& b) {
    return a.created_unix_ms < b.created_unix_ms;
  });
  return out;
}

Status LocalMarket::Destroy(const std::string& id) {
  RETURN_IF_ERROR(ValidateProviderId(id));
  std::string dir = HostDir(id);
  if (!FileSystem::Real()->Lstat(dir)) return OkStatus();  // already gone
  KillProcessTree(SupervisorPid(dir));
  return RemoveAll(FileSystem::Real(), dir);
}

Status LocalMarket::Kill(const std::string& id) {
  RETURN_IF_ERROR(ValidateProviderId(id));
  std::string dir = HostDir(id);
  auto read = ReadRecord(dir);
  if (!read && read.error().code == ErrorCode::kNotFound) {
    return NotFoundError("instance " + id +
                         " not found on the local market; already gone? (`standby instances "
                         "--all` lists what exists)");
  }
  ASSIGN_OR_RETURN(json record, std::move(read));
  KillProcessTree(SupervisorPid(dir));
  FileSystem::Real()->RemoveFile(dir + "/sshd.ready").IgnoreError();
  if (!record.contains("killed_unix_ms")) record["killed_unix_ms"] = NowMs();
  Status written = WriteRecord(dir, record);
  // Destroyed meanwhile (its controller saw it die): it is dead all the same.
  if (!written && written.error().code == ErrorCode::kNotFound) return OkStatus();
  return written;
}

int RunLocalHost(const std::string& dir) {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  auto record = ReadRecord(dir);
  if (!record) {
    std::fprintf(stderr, "market-host: %s\n", record.error().message.c_str());
    return 1;
  }
  int64_t created = record->value("created_unix_ms", int64_t{0});
  auto sleep_until = [&](double seconds_after_create) {
    int64_t until = created + static_cast<int64_t>(seconds_after_create * 1000);
    while (NowMs() < until) {
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::min<int64_t>(until - NowMs(), 500)));
    }
  };
  double exits = record->value("exits_after_s", -1.0);
  if (exits >= 0) {
    sleep_until(exits);
    return 0;  // the instance reads "exited" from its record
  }
  if ((*record)["ready_after_s"].is_null()) {
    while (true) ::pause();  // never becomes ready
  }
  // Every host sees its own workspace at /workspace, as every Vast.ai template does: sshd
  // and all it starts live in a mount namespace where the host's directory is bound there.
  if (Status mounted = EnterHostMountNamespace(dir); !mounted) {
    std::fprintf(stderr, "market-host: %s\n", mounted.error().message.c_str());
    WriteFileAtomically(FileSystem::Real(), dir + "/failed", mounted.error().message).IgnoreError();
    return 1;
  }
  sleep_until((*record)["ready_after_s"].get<double>());
  std::vector<std::string> args = LocalSshdCommand(dir + "/sshd");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t sshd = -1;
  ChildEnvironment env;
  SpawnAttributes attr;
  if (posix_spawn(&sshd, argv[0], nullptr, attr.get(), argv.data(), env.envp()) != 0) {
    std::fprintf(stderr, "market-host: cannot start sshd\n");
    return 1;
  }
  int port = record->value("port", 0);
  if (WaitForPort(port, 10000)) {
    WriteFileAtomically(FileSystem::Real(), dir + "/sshd.ready", "").IgnoreError();
  }
  // Reap everything reparented here; end with sshd.
  while (true) {
    int status = 0;
    pid_t done = ::waitpid(-1, &status, 0);
    if (done == sshd || (done < 0 && errno == ECHILD)) break;
  }
  return 0;
}

}  // namespace standby
