// standby: keeps GPU workloads alive on rented machines. main only dispatches.
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/strings.h"
#include "base/version.h"
#include "cli/command.h"

namespace {

constexpr const char* kUsage = R"(usage: standby COMMAND [options]

  snapshot create --repo URL --instance ID --workspace DIR [--full] [--json]
  snapshot list   --repo URL [--instance ID] [--json]
  snapshot verify --repo URL SNAPSHOT_ID [--json]
  snapshot prune  --repo URL --instance ID --keep-last N [--json]
  snapshot now    NAME                          (ask the running controller for a snapshot)
  unlock          --repo URL [--all]            (remove locks whose holder is gone)
  restore         --repo URL (SNAPSHOT_ID | --instance ID) --to DIR [--overwrite] [--json]
  verify          --repo URL SNAPSHOT_ID --dir DIR [--json]
  health          [--workspace DIR] [--health-url URL] [--json]
  ssh-key         [--json]                      (print the controller's SSH public key)
  offers          [--provider local|vast|pool] [--gpu NAME] [--max-price USD] ... [--json]
  provision       [--provider ...] [filters] [--json]   (race for one ready GPU host)
  instances       [--provider ...] [--all] [--json]
  destroy         [--provider ...] ID [--json]
  reap            [--provider ...] [--grace-seconds N]  (destroy unowned labelled instances)
  market kill     ID                             (chaos: kill a local market host)
  protect         NAME --repo URL [--workspace DIR] (--provision [filters] | --instance-id ID |
                  --ssh USER@HOST[:PORT]) [--workload CMD] [--health-url URL | --check-cmd CMD]
                  [--snapshot-every 60m] [--keep-last N] [--drill-every 7d
                  [--drill-kind planned|kill]] [--json]
  unprotect       NAME [--destroy]
  pause / resume  NAME                          (maintenance: the controller leaves it alone)
  serve           [--listen ADDR:PORT] (the controller until SIGTERM, and the HTTP API)
  token           show | rotate                 (the HTTP API's bearer token)
  status          [NAME] [--json]               (state, host, phase, last snapshot age, MTTR)
  events          [NAME] [--json]               (failover history with per-phase timings)
  failover        NAME [--planned] [--wait] [--json]
  drill           NAME [--kill | --planned] [--yes] [--wait] [--json]   (a deliberate failover)
  demo            [--non-interactive] [--size-mb N] [--json]
  db migrate      [--json]                      (DATABASE_URL, default SQLite in the state dir)
  metrics         [--by snapshot_type|trigger] [--json]
  doctor          [--provider ...] [--json]     (is this deployment sound? one line per check)
  config show     [--json]                      (every setting, its value and where it came from)
  version

snapshot create, restore, verify and health take --ssh USER@HOST[:PORT] [--ssh-key FILE]
to run on that host through standby-agent (paths are then the host's).
Common options: --config FILE, --log-level LEVEL, --json. Every command and setting is
described in docs/manual.md.
)";

int Dispatch(const std::vector<std::string>& args) {
  auto rest = [&](size_t n) { return std::vector<std::string>(args.begin() + n, args.end()); };
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? standby::kExitUsage : standby::kExitOk;
  }
  const std::string& cmd = args[0];
  if (cmd == "version" || cmd == "--version") {
    std::printf("standby %s\n", standby::kStandbyVersion);
    return standby::kExitOk;
  }
  if (cmd == "snapshot" && args.size() >= 2) {
    const std::string& sub = args[1];
    if (sub == "create") return standby::RunSnapshotCreate(rest(2));
    if (sub == "list") return standby::RunSnapshotList(rest(2));
    if (sub == "verify") return standby::RunSnapshotVerify(rest(2));
    if (sub == "prune") return standby::RunSnapshotPrune(rest(2));
    if (sub == "now") return standby::RunSnapshotNow(rest(2));
  }
  if (cmd == "unlock") return standby::RunUnlock(rest(1));
  if (cmd == "doctor") return standby::RunDoctor(rest(1));
  if (cmd == "config" && args.size() >= 2 && args[1] == "show") {
    return standby::RunConfigShow(rest(2));
  }
  if (cmd == "restore") return standby::RunRestore(rest(1));
  if (cmd == "verify") return standby::RunVerify(rest(1));
  if (cmd == "health") return standby::RunHealth(rest(1));
  if (cmd == "ssh-key") return standby::RunSshKey(rest(1));
  if (cmd == "offers") return standby::RunOffers(rest(1));
  if (cmd == "provision") return standby::RunProvision(rest(1));
  if (cmd == "instances") return standby::RunInstances(rest(1));
  if (cmd == "destroy") return standby::RunDestroy(rest(1));
  if (cmd == "reap") return standby::RunReap(rest(1));
  if (cmd == "market" && args.size() >= 2 && args[1] == "kill") {
    return standby::RunMarketKill(rest(2));
  }
  if (cmd == "market-host") return standby::RunMarketHost(rest(1));
  if (cmd == "demo") return standby::RunDemo(rest(1));
  if (cmd == "db" && args.size() >= 2 && args[1] == "migrate")
    return standby::RunDbMigrate(rest(2));
  if (cmd == "metrics") return standby::RunMetrics(rest(1));
  if (cmd == "protect") return standby::RunProtect(rest(1));
  if (cmd == "unprotect") return standby::RunUnprotect(rest(1));
  if (cmd == "pause") return standby::RunPause(rest(1));
  if (cmd == "resume") return standby::RunResume(rest(1));
  if (cmd == "serve") return standby::RunServe(rest(1));
  if (cmd == "status") return standby::RunStatus(rest(1));
  if (cmd == "events") return standby::RunEvents(rest(1));
  if (cmd == "failover") return standby::RunFailover(rest(1));
  if (cmd == "drill") return standby::RunDrill(rest(1));
  if (cmd == "token") return standby::RunToken(rest(1));
  std::fprintf(stderr, "error: unknown command \"%s\" (run `standby help`)\n", cmd.c_str());
  return standby::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  // The controller holds store, provider and database credentials: no core dump may carry
  // them to disk, and no other process of this user may read its memory.
  struct rlimit no_core = {0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  try {
    return Dispatch(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: internal error: %s\n", standby::EscapeControl(e.what()).c_str());
    return standby::kExitFailed;
  }
}
