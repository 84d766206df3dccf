// Every command and option of `standby`, once (command_table.h).
#include "cli/command_table.h"

#include <algorithm>

#include "cli/command.h"
#include "config/config.h"

namespace standby {
namespace {

using O = OptionSpec;

std::vector<OptionSpec> Group(std::string_view name) {
  if (name == "provider") {
    return {O{"provider", "NAME", "", "provider", {"local", "vast", "pool"}},
            O{"market", "PROFILE", "", "market", {"fast", "vast-like"}},
            O{"pool", "FILE", "", "pool_file", {}}, O{"state-dir", "DIR", "", "state_dir", {}}};
  }
  if (name == "state") return {O{"state-dir", "DIR", "", "state_dir", {}}};
  if (name == "filters") {
    return {O{"gpu", "NAME[,NAME]", "GPU models to accept (e.g. 'RTX 4090,A100')", "", {}},
            O{"gpus", "N", "GPUs per machine", "", {}, "1"},
            O{"min-gpu-ram", "GB", "least GPU memory per GPU", "", {}},
            O{"max-price", "USD", "most dollars per hour", "", {}},
            O{"min-reliability", "SHARE", "least provider reliability, 0..1", "", {}},
            O{"min-download", "MBPS", "least download bandwidth", "", {}},
            O{"region", "TEXT", "the machine's location contains this", "", {}},
            O{"limit", "N", "offers to consider", "", {}, "64"}};
  }
  if (name == "ssh") {
    return {O{"ssh", "USER@HOST[:PORT]", "run on that host through standby-agent", "", {}},
            O{"ssh-key", "FILE", "", "ssh.key", {}},
            O{"ssh-host-id",
              "ID",
              "pin the host's key under this name (default: the address)",
              "",
              {}}};
  }
  return {};
}

std::vector<OptionSpec> CommonOptions() {
  return {O{"config", "FILE", "a TOML configuration file (docs/examples/standby.toml)", "", {}},
          O{"log-level", "LEVEL", "", "log_level", {"debug", "info", "warning", "error", "off"}},
          O{"json", "", "print one JSON document on stdout (the result, or the error)", "", {}},
          O{"repo", "URL", "", "repo", {}},
          O{"s3-endpoint", "URL", "", "s3.endpoint", {}},
          O{"s3-region", "REGION", "", "s3.region", {}},
          O{"s3-path-style", "BOOL", "", "s3.path_style", {"true", "false"}},
          O{"help", "", "show this command's options and exit", "", {}}};
}

std::vector<CommandSpec> Build() {
  const O threads{"threads", "N", "", "threads", {}};
  const O instance_id{"instance", "ID", "the instance whose snapshots these are", "", {}};
  return {
      {"snapshot create",
       "",
       "snapshot a workspace into the repository",
       {instance_id,
        {"workspace", "DIR", "the directory to snapshot", "", {}},
        {"full", "", "read every file again instead of trusting unchanged sizes and times", "", {}},
        {"compression", "ALGO", "", "snapshot.compression", {"lz4", "zstd", "none"}},
        {"pack-size-mb", "MB", "", "snapshot.pack_size_mb", {}},
        {"lock-wait-seconds", "S", "", "snapshot.lock_wait_seconds", {}},
        threads},
       {"ssh"},
       0,
       RunSnapshotCreate},
      {"snapshot list",
       "",
       "list the repository's snapshots, oldest first",
       {instance_id},
       {},
       0,
       RunSnapshotList},
      {"snapshot verify",
       "SNAPSHOT_ID",
       "check that every chunk of a snapshot is stored intact",
       {instance_id, threads},
       {},
       1,
       RunSnapshotVerify},
      {"snapshot prune",
       "",
       "keep an instance's newest snapshots and delete what only others used",
       {instance_id,
        {"keep-last", "N", "snapshots to keep", "", {}},
        {"lock-wait-seconds", "S", "how long to wait for a running snapshot's lock (0)", "", {}}},
       {},
       0,
       RunSnapshotPrune},
      {"snapshot now",
       "NAME",
       "ask the running controller for a snapshot of NAME now",
       {},
       {"state"},
       1,
       RunSnapshotNow},
      {"unlock",
       "",
       "remove repository locks whose holder is gone",
       {{"all", "", "remove every lock, held or not (only when nothing else runs)", "", {}}},
       {},
       0,
       RunUnlock},
      {"restore",
       "[SNAPSHOT_ID]",
       "restore a snapshot into a directory and validate it",
       {{"instance", "ID", "restore the instance's latest snapshot", "", {}},
        {"to", "DIR", "the directory to restore into", "", {}},
        {"overwrite", "", "restore into a non-empty directory, replacing what differs", "", {}},
        {"allow-external-symlinks", "", "keep symlinks that point outside the restore", "", {}},
        {"keep-special-bits", "", "keep setuid, setgid and sticky bits", "", {}},
        threads},
       {"ssh"},
       1,
       RunRestore},
      {"verify",
       "[SNAPSHOT_ID]",
       "compare a directory byte for byte with a snapshot",
       {{"dir", "DIR", "the directory to compare", "", {}},
        {"instance", "ID", "compare with the instance's latest snapshot", "", {}},
        threads},
       {"ssh"},
       1,
       RunVerify},
      {"health",
       "",
       "a host's uptime, free space and GPUs, and a workload's health check",
       {{"workspace", "DIR", "the workspace whose free space to report", "", {}},
        {"instance", "ID", "the instance the workload belongs to", "", {}},
        {"health-url", "URL", "an HTTP health check to run", "", {}},
        {"expect-status", "CODE", "the status the health check wants (200)", "", {}},
        {"expect-body", "TEXT", "text the health check's answer must contain", "", {}},
        {"timeout-ms", "MS", "the health check's timeout", "", {}}},
       {"ssh"},
       0,
       RunHealth},
      {"ssh-key",
       "",
       "print the controller's SSH public key (made on first use)",
       {},
       {"state"},
       0,
       RunSshKey},
      {"offers",
       "",
       "list the provider's machines that fit the filters",
       {},
       {"provider", "filters"},
       0,
       RunOffers},
      {"provision",
       "",
       "race offers until one machine answers SSH, destroying the losers",
       {{"image", "IMAGE", "the container image to start", "", {}},
        {"disk-gb", "GB", "disk space to rent (at least 8)", "", {}},
        {"initial", "N", "", "race.initial_batch", {}},
        {"max-in-flight", "N", "", "race.max_in_flight", {}},
        {"rounds", "N", "", "race.max_rounds", {}},
        {"ssh-user", "USER", "the user to log in as", "", {}}},
       {"provider", "filters"},
       0,
       RunProvision},
      {"instances",
       "",
       "list the provider's instances standby labelled",
       {{"all", "", "every instance of the account, labelled or not", "", {}}},
       {"provider"},
       0,
       RunInstances},
      {"destroy", "ID", "destroy a provider instance", {}, {"provider"}, 1, RunDestroy},
      {"reap",
       "",
       "destroy labelled instances that nobody owns",
       {{"grace-seconds", "S", "leave instances younger than this", "", {}, "600"}},
       {"provider"},
       0,
       RunReap},
      {"market kill", "ID", "kill a local market host (chaos)", {}, {"provider"}, 1, RunMarketKill},
      {"market-host", "DIR", "internal: a local market host", {}, {}, 1, RunMarketHost, true},
      {"protect",
       "NAME",
       "keep a workload alive: place it (or adopt a host), then watch, snapshot and recover it",
       {{"workspace", "DIR", "the workspace on the host", "", {}},
        {"provision",
         "",
         "rent a host that fits the filters and restore the latest snapshot",
         "",
         {}},
        {"instance-id", "ID", "adopt this provider instance", "", {}},
        {"ssh", "USER@HOST[:PORT]", "adopt this SSH host", "", {}},
        {"image", "IMAGE", "the container image of rented hosts", "", {}},
        {"disk-gb", "GB", "disk space of rented hosts (at least 8)", "", {}},
        {"ssh-user", "USER", "the user to log in as", "", {}},
        {"workload", "CMD", "the command that runs the workload, in the workspace", "", {}},
        {"health-url", "URL", "the workload's HTTP health check, from the host", "", {}},
        {"health-expect-body", "TEXT", "text the health check's answer must contain", "", {}},
        {"check-cmd", "CMD", "a command whose exit 0 means healthy (instead of a URL)", "", {}},
        {"health-timeout", "DURATION", "how long a started workload may take to pass", "", {}},
        {"snapshot-every", "DURATION", "periodic snapshots (60m; 0 for none)", "", {}},
        {"keep-last", "N", "", "snapshot.keep_last", {}},
        {"drill-every", "DURATION", "a drill on this schedule (e.g. 7d)", "", {}},
        {"drill-kind", "KIND", "what a scheduled drill does", "", {"planned", "kill"}},
        {"probe-interval", "MS", "", "failover.probe_interval_ms", {}},
        {"probe-timeout", "MS", "", "failover.probe_timeout_ms", {}},
        {"dead-after", "N", "", "failover.dead_after", {}},
        {"speculative-race", "BOOL", "", "failover.speculative_race", {"true", "false"}},
        {"fence-unconfirmed", "POLICY", "", "failover.fence_unconfirmed", {"proceed", "wait"}}},
       {"provider", "filters"},
       1,
       RunProtect},
      {"unprotect",
       "NAME",
       "stop protecting an instance",
       {{"destroy", "", "also destroy its host", "", {}}},
       {"provider"},
       1,
       RunUnprotect},
      {"pause",
       "NAME",
       "maintenance: the controller leaves the instance alone",
       {},
       {"provider"},
       1,
       RunPause},
      {"resume", "NAME", "end maintenance", {}, {"provider"}, 1, RunResume},
      {"serve",
       "",
       "run the controller, its HTTP API and dashboard until SIGTERM",
       {{"probe-interval", "MS", "", "failover.probe_interval_ms", {}},
        {"listen", "ADDR:PORT", "", "api.listen", {}},
        {"tls-cert", "FILE", "", "api.tls_cert", {}},
        {"tls-key", "FILE", "", "api.tls_key", {}},
        {"insecure-listen", "", "", "api.insecure_listen", {}},
        {"webhook", "URL[,URL]", "", "api.webhooks", {}},
        {"id", "ID", "", "controller_id", {}}},
       {"provider"},
       0,
       RunServe},
      {"token",
       "show|rotate",
       "print or replace the HTTP API's bearer token",
       {},
       {"state"},
       1,
       RunToken,
       false,
       {"show", "rotate"}},
      {"status",
       "[NAME]",
       "state, host, failover phase, last snapshot age and MTTR",
       {},
       {"state"},
       1,
       RunStatus},
      {"events",
       "[NAME]",
       "every failover with its MTTR and each phase",
       {},
       {"state"},
       1,
       RunEvents},
      {"failover",
       "NAME",
       "ask the running controller to fail an instance over now",
       {{"planned",
         "",
         "move with nothing lost: copy, stop, final snapshot, apply the delta",
         "",
         {}},
        {"no-stop", "", "planned, stateless: the old host serves until the new one passes", "", {}},
        {"wait", "", "follow it to the end", "", {}},
        {"timeout", "SECONDS", "how long --wait waits", "", {}, "1800"}},
       {"state"},
       1,
       RunFailover},
      {"fence confirm",
       "FAILOVER_ID",
       "attest that a failover's old host no longer serves (its fence is pending or waiting)",
       {{"reason",
         "TEXT",
         "why you know (kept on the failover)",
         "",
         {},
         "confirmed by an operator"}},
       {"provider"},
       1,
       RunFenceConfirm},
      {"drill",
       "NAME",
       "fail an instance over on purpose and report its MTTR",
       {{"kill", "", "kill its host (the default)", "", {}},
        {"planned", "", "a planned move instead", "", {}},
        {"yes", "", "allow destroying a paid (Vast.ai) instance", "", {}},
        {"wait", "", "follow it and print the timeline and MTTR table", "", {}},
        {"timeout", "SECONDS", "how long --wait waits", "", {}, "1800"}},
       {"state"},
       1,
       RunDrill},
      {"demo",
       "",
       "a real failover on this machine: local market, file store, SQLite",
       {{"non-interactive", "", "do not wait for Enter between steps", "", {}},
        {"size-mb", "MB", "the demo workspace's size (8 to 65536)", "", {}},
        {"keep", "", "keep the demo's directory", "", {}},
        {"dir", "DIR", "run in this directory (kept)", "", {}}},
       {},
       0,
       RunDemo},
      {"db migrate",
       "",
       "create or upgrade the state database (DATABASE_URL or SQLite)",
       {},
       {"state"},
       0,
       RunDbMigrate},
      {"metrics",
       "",
       "MTTR and phase summaries from the failover history",
       {{"by", "FIELD", "group by this field", "", {"snapshot_type", "trigger"}}},
       {"provider"},
       0,
       RunMetrics},
      {"doctor",
       "",
       "check that this deployment is sound, one line per check",
       {},
       {"provider"},
       0,
       RunDoctor},
      {"config show",
       "",
       "every setting, its value and where it came from",
       {},
       {},
       0,
       RunConfigShow},
      {"completion",
       "bash|zsh",
       "print a shell completion script",
       {},
       {},
       1,
       RunCompletion,
       false,
       {"bash", "zsh"}},
      {"version", "", "print standby's version", {}, {}, 0, RunVersion},
      {"help",
       "[COMMAND]",
       "show the commands, or one command's options",
       {},
       {},
       2,
       RunHelp,
       false,
       {"@commands"}},
      {"man-page",
       "[MANUAL_MD]",
       "internal: the roff man page, with the prose of docs/manual.md (the build writes standby.1)",
       {},
       {},
       1,
       RunManPage,
       true},
  };
}

// Optimal string alignment distance.
size_t Distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec> commands = Build();
  return commands;
}

const CommandSpec* FindCommand(std::string_view name) {
  for (const CommandSpec& c : Commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::vector<OptionSpec> OptionsOf(const CommandSpec& command) {
  std::vector<OptionSpec> out = command.options;
  auto add = [&](const std::vector<OptionSpec>& more) {
    for (const OptionSpec& o : more) {
      if (std::none_of(out.begin(), out.end(), [&](const O& have) { return have.name == o.name; }))
        out.push_back(o);
    }
  };
  for (const std::string& group : command.groups) add(Group(group));
  add(CommonOptions());
  return out;
}

std::string OptionHelp(const OptionSpec& option) {
  const SettingSpec* setting = option.setting.empty() ? nullptr : FindSetting(option.setting);
  std::string help = !option.help.empty() ? option.help : setting ? std::string(setting->help) : "";
  if (!option.default_value.empty()) help += " [default " + option.default_value + "]";
  if (setting) {
    help += " [";
    if (!setting->default_value.empty()) {
      help += "default " + std::string(setting->default_value) + "; ";
    }
    help += "$" + std::string(setting->env) + "]";
  }
  return help;
}

std::string Closest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 3;
  for (const std::string& c : candidates) {
    size_t d = Distance(word, c);
    if (word.size() >= 3 && c.rfind(word, 0) == 0) d = std::min<size_t>(d, 1);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace standby
