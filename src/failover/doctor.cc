#include "failover/doctor.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <chrono>
#include <fstream>
#include <memory>

#include "base/strings.h"
#include "env/child_process_env.h"
#include "env/file_system.h"
#include "env/random.h"
#include "failover/protected_rows.h"
#include "failover/protection_spec.h"
#include "provision/fleet.h"
#include "provision/provider_settings.h"
#include "remote/agent_protocol.h"
#include "remote/host_agent.h"
#include "state/open_state_store.h"
#include "store/s3_object_store.h"
#include "store/store_config.h"

namespace standby {
namespace {

using Outcome = DoctorCheck::Outcome;

constexpr int64_t kMaxClockSkewSeconds = 60;
constexpr uint64_t kMinStateDirFree = 100ull << 20;
constexpr std::chrono::seconds kProgramTimeout{10};

DoctorCheck Ok(std::string name, std::string detail) {
  return {std::move(name), Outcome::kOk, std::move(detail), ""};
}
DoctorCheck Failed(std::string name, const Error& error, std::string fix) {
  return {std::move(name), Outcome::kFailed, error.message, std::move(fix)};
}
DoctorCheck Skipped(std::string name, std::string why) {
  return {std::move(name), Outcome::kSkipped, std::move(why), ""};
}

// What to do about a store error, by what kind of error it is.
std::string StoreFix(const Error& e) {
  switch (e.code) {
    case ErrorCode::kPermissionDenied:
      return "check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
             "B2_KEY_ID/B2_APPLICATION_KEY, in the environment or .env) and --s3-region";
    case ErrorCode::kNotFound:
      return "create the bucket or directory, or fix --repo";
    case ErrorCode::kUnavailable:
    case ErrorCode::kDeadlineExceeded:
      return "start the store, or fix --s3-endpoint";
    default:
      return "see the error; `standby snapshot list --repo …` shows the same";
  }
}

// Put, read back and delete a probe object under the repository's prefix; then how far our
// clock is from the store's (S3 only: its Date header).
void CheckObjectStore(const Config& config, std::vector<DoctorCheck>* out) {
  const std::string repo = config.GetOr("repo", "");
  if (repo.empty()) {
    out->push_back(Skipped("object store", "no repository configured (--repo, STANDBY_REPO)"));
    return;
  }
  auto store = OpenConfiguredStore(config, Clock::Real());
  if (!store) {
    out->push_back(Failed("object store", store.error(), StoreFix(store.error())));
    return;
  }
  // A mistyped location is named as such, and never created by the probe.
  Status probed = (*store)->CheckLocation();
  // At the top of the prefix: a directory store keeps no directory behind once it is deleted.
  const std::string key = "doctor-probe-" + RandomHex(8);
  const std::string body = "standby doctor " + key;
  if (probed) probed = (*store)->Put(key, body);
  if (probed) {
    auto read = (*store)->Get(key);
    if (!read) {
      probed = read.error();
    } else if (*read != body) {
      probed = CorruptionError("the probe object read back differs from what was written");
    }
    Status deleted = (*store)->Delete(key);
    if (probed && !deleted) probed = deleted;
  }
  if (!probed) {
    out->push_back(Failed("object store", probed.error(), StoreFix(probed.error())));
    return;
  }
  out->push_back(Ok("object store", (*store)->Url() + ": put, get and delete of a probe work"));
  auto* s3 = dynamic_cast<S3ObjectStore*>(store->get());
  if (s3 == nullptr) return;
  const int64_t offset = s3->clock_offset_seconds();
  std::string skew = offset == 0 ? "within 5 s of the store's"
                                 : std::to_string(std::abs(offset)) + " s " +
                                       (offset > 0 ? "behind" : "ahead of") + " the store's";
  if (std::abs(offset) > kMaxClockSkewSeconds) {
    out->push_back(Failed("clock", InvalidArgumentError("this clock is " + skew),
                          "synchronise the clock (timedatectl set-ntp true, or chrony); "
                          "standby corrects its signatures, other tools and TLS will not"));
  } else {
    out->push_back(Ok("clock", "this clock is " + skew));
  }
}

// The configured key, or the controller's own (made now if missing, as any command would).
bool CheckSshKey(const Config& config, std::vector<DoctorCheck>* out) {
  auto identity = ControllerIdentityFromConfig(config, StateDirFromConfig(config));
  if (!identity) {
    out->push_back(Failed("ssh key", identity.error(),
                          "chmod 600 the key, or set ssh.key (STANDBY_SSH_KEY) to a readable "
                          "OpenSSH private key"));
    return false;
  }
  struct stat st;  // the file a symlink (a mounted secret) points at is what must be private
  if (::stat(identity->private_key_path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    out->push_back(
        Failed("ssh key",
               PermissionDeniedError(identity->private_key_path + " is readable by other users"),
               "chmod 600 " + identity->private_key_path));
    return false;
  }
  out->push_back(Ok("ssh key", identity->private_key_path + " (" +
                                   identity->public_key.substr(0, identity->public_key.find(' ')) +
                                   ")"));
  return true;
}

// Whether a 64-bit little-endian ELF file has a PT_INTERP program header (is dynamically
// linked); false for anything else.
bool IsDynamic(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  unsigned char header[64] = {};
  if (!file.read(reinterpret_cast<char*>(header), sizeof(header)) || header[0] != 0x7f ||
      header[1] != 'E' || header[4] != 2 /* ELFCLASS64 */ || header[5] != 1 /* LSB */) {
    return false;
  }
  auto little = [&](const unsigned char* p, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
  };
  const uint64_t phoff = little(header + 0x20, 8);
  const uint64_t phentsize = little(header + 0x36, 2);
  const uint64_t phnum = little(header + 0x38, 2);
  for (uint64_t i = 0; i < phnum && phentsize >= 4; ++i) {
    unsigned char type[4];
    file.seekg(static_cast<std::streamoff>(phoff + i * phentsize));
    if (!file.read(reinterpret_cast<char*>(type), sizeof(type))) return false;
    if (little(type, 4) == 3 /* PT_INTERP */) return true;
  }
  return false;
}

void CheckAgent(const Config& config, std::vector<DoctorCheck>* out) {
  auto agent = AgentBinaryFromConfig(config);
  if (!agent) {
    out->push_back(Failed("agent", agent.error(), "set agent_path to standby-agent"));
    return;
  }
  auto version = CaptureProgramOutput({*agent, "--version"}, kProgramTimeout);
  const std::string expected = "protocol " + std::to_string(kAgentProtocolVersion);
  if (!version || std::string(TrimWhitespace(*version)) != "standby-agent " + expected) {
    Error e =
        version ? InvalidArgumentError(*agent + " says \"" + std::string(TrimWhitespace(*version)) +
                                       "\", not " + expected)
                : version.error();
    out->push_back(Failed("agent", e, "install the standby-agent built with this standby"));
    return;
  }
  out->push_back(Ok("agent", *agent + ": " + expected +
                                 (IsDynamic(*agent) ? ", dynamically linked (hosts need its "
                                                      "libraries)"
                                                    : ", static")));
}

void CheckStateDirSpace(const Config& config, std::vector<DoctorCheck>* out) {
  const std::string dir = StateDirFromConfig(config);
  struct statvfs st;
  if (::statvfs(dir.c_str(), &st) != 0) {
    out->push_back(Failed("state dir space", ErrnoError(errno, "statvfs " + dir),
                          "create the state directory or fix STANDBY_STATE_DIR"));
    return;
  }
  const uint64_t free_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  if (free_bytes < kMinStateDirFree) {
    out->push_back(Failed("state dir space",
                          ResourceExhaustedError(dir + " has " + HumanBytes(free_bytes) + " free"),
                          "free space there: the database, spool and keys live in it"));
    return;
  }
  out->push_back(Ok("state dir space", dir + ": " + HumanBytes(free_bytes) + " free"));
}

void CheckTimeSync(std::vector<DoctorCheck>* out) {
  auto synced = CaptureProgramOutput({"timedatectl", "show", "-p", "NTPSynchronized", "--value"},
                                     kProgramTimeout);
  if (!synced) {
    out->push_back(Skipped("time sync", "timedatectl does not answer here"));
  } else if (TrimWhitespace(*synced) == "yes") {
    out->push_back(Ok("time sync", "NTP synchronised"));
  } else {
    out->push_back(Failed("time sync", InvalidArgumentError("the clock is not NTP-synchronised"),
                          "timedatectl set-ntp true"));
  }
}

// One cheap authenticated call to the provider, then each protected instance's host.
void CheckProviderAndInstances(const Config& config, StateStore* state,
                               std::vector<DoctorCheck>* out) {
  const std::string kind = config.GetOr("provider", "local");
  const std::string fix = kind == "vast" ? "check VAST_API_KEY (environment or .env) and VAST_URL"
                          : kind == "pool"
                              ? "check the pool file (--pool FILE)"
                              : "check --provider and --market (local: the state directory)";
  auto parts = Fleet::PartsFromConfig(config, Clock::Real());
  if (!parts) {
    out->push_back(Failed("provider", parts.error(), fix));
    return;
  }
  auto fleet = Fleet::Open(*parts, state, Clock::Real(), Random::Real());
  if (!fleet) {
    out->push_back(Failed("provider", fleet.error(), fix));
    return;
  }
  Provider* provider = (*fleet)->provider();
  auto listed = provider->List((*fleet)->provisioner()->LabelPrefix());
  if (!listed) {
    out->push_back(Failed("provider", listed.error(), fix));
    return;
  }
  out->push_back(Ok("provider", provider->Name() + " answers; " + std::to_string(listed->size()) +
                                    " instance(s) of this controller"));
  auto protected_instances = state->ListProtectedInstances();
  if (!protected_instances) {
    out->push_back(Failed("instances", protected_instances.error(),
                          "check the database: the protected instances cannot be read"));
    return;
  }
  const int64_t now_ms = NowMillis(Clock::Real());
  for (const ProtectedInstance& p : *protected_instances) {
    const std::string name = "instance " + p.instance_id;
    auto spec = SpecFromJson(p.spec_json);
    if (!spec) {
      out->push_back(Failed(name, spec.error(), "protect it again"));
      continue;
    }
    if (p.ssh_host.empty()) {
      out->push_back(Failed(name, UnavailableError("it has no host (" + p.status + ")"),
                            "`standby status " + p.instance_id + "`; `standby serve` places it"));
      continue;
    }
    auto transport = (*fleet)->transports()->Connect(HostOf(p, spec->ssh_user));
    transport->SetTimeouts(std::chrono::seconds(10), std::chrono::seconds(20));
    StoreAccess no_store;
    auto health = HostAgent(transport.get(), &no_store).Health(p.instance_id, spec->workspace, {});
    if (!health) {
      out->push_back(Failed(name, health.error(),
                            "`standby status " + p.instance_id +
                                "`; a running `standby serve` fails it "
                                "over when it stays unreachable"));
      continue;
    }
    std::string age =
        p.last_snapshot_at > 0
            ? HumanSeconds(static_cast<double>(now_ms - p.last_snapshot_at) / 1000) + " ago"
            : "never";
    out->push_back(Ok(name, HostOf(p, spec->ssh_user).Describe() + " answers (agent protocol " +
                                std::to_string(kAgentProtocolVersion) + "); last snapshot " + age));
  }
}

}  // namespace

std::vector<DoctorCheck> RunDoctor(const Config& config) {
  std::vector<DoctorCheck> out;
  const std::string database_url = config.GetOr("database_url", "");
  auto state = OpenStateStore(database_url, StateDirFromConfig(config));
  const std::string kind = database_url.empty() ? "SQLite in " + StateDirFromConfig(config)
                                                : RedactDatabaseUrl(database_url);
  if (state) {
    out.push_back(Ok("state store", kind + ", migrated"));
  } else {
    out.push_back(Failed("state store", state.error(),
                         "start the database or fix DATABASE_URL (and its user's rights: "
                         "opening applies pending migrations, as every command does)"));
  }
  CheckObjectStore(config, &out);
  const bool key = CheckSshKey(config, &out);
  if (!state) {
    out.push_back(Skipped("provider", "needs the state store"));
  } else if (!key) {
    out.push_back(Skipped("provider", "needs the SSH key"));
  } else {
    CheckProviderAndInstances(config, state->get(), &out);
  }
  CheckAgent(config, &out);
  CheckStateDirSpace(config, &out);
  CheckTimeSync(&out);
  return out;
}

bool DoctorPassed(const std::vector<DoctorCheck>& checks) {
  for (const DoctorCheck& c : checks) {
    if (c.outcome == Outcome::kFailed) return false;
  }
  return true;
}

nlohmann::json DoctorJson(const std::vector<DoctorCheck>& checks) {
  nlohmann::json list = nlohmann::json::array();
  for (const DoctorCheck& c : checks) {
    const char* outcome = c.outcome == Outcome::kOk       ? "ok"
                          : c.outcome == Outcome::kFailed ? "failed"
                                                          : "skipped";
    nlohmann::json j = {{"check", c.name}, {"outcome", outcome}, {"detail", c.detail}};
    if (!c.fix.empty()) j["fix"] = c.fix;
    list.push_back(j);
  }
  return {{"ok", DoctorPassed(checks)}, {"checks", list}};
}

}  // namespace standby
