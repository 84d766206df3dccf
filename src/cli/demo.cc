#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <random>

#include "base/strings.h"
#include "cli/command.h"
#include "cli/demo_market.h"
#include "cli/demo_workspace.h"
#include "cli/remote.h"
#include "env/clock.h"
#include "snapshot/restorer.h"
#include "snapshot/snapshot_writer.h"
#include "snapshot/verifier.h"
#include "store/fs_object_store.h"

namespace standby {

int RunDemo(const std::vector<std::string>& args) {
  const std::string command = "demo";
  auto inv = Prepare(command, args,
                     {{"non-interactive", false, ""},
                      {"size-mb", true, ""},
                      {"keep", false, ""},
                      {"in-process", false, ""},
                      {"dir", true, ""}},
                     0);
  if (!inv) return UsageError(command, inv.error().message, false);
  uint64_t size_mb = 256;
  if (auto flag = inv->Flag("size-mb")) {
    auto parsed = ParseUint(*flag);
    if (!parsed || *parsed < 8)
      return UsageError(command, "--size-mb must be an integer ≥ 8", inv->json);
    size_mb = *parsed;
  }
  bool interactive = !inv->Has("non-interactive") && !inv->json && ::isatty(STDIN_FILENO);
  FileSystem* fs = FileSystem::Real();
  Clock* clock = Clock::Real();
  std::string base;
  if (auto dir = inv->Flag("dir")) {
    auto abs = AbsolutePath(*dir);
    if (!abs) return Fail(abs.error(), inv->json);
    base = *abs;
    if (Status made = MakeDirs(fs, base); !made) return Fail(made.error(), inv->json);
  } else {
    std::string tmpl =
        JoinPath(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp", "standby-demo-XXXXXX");
    if (::mkdtemp(tmpl.data()) == nullptr) return Fail(ErrnoError(errno, "mkdtemp"), inv->json);
    base = tmpl;
  }
  // On the embedded defaults — the local market's hosts, their sshd and the agent — unless
  // asked for the in-process run or sshd is not installed.
  if (!inv->Has("in-process") && fs->Lstat("/usr/sbin/sshd")) {
    auto agent = AgentBinary(*inv);
    if (!agent) return Fail(agent.error(), inv->json);
    auto summary = RunMarketDemo(base, *agent, size_mb << 20, interactive);
    if (summary && inv->json) PrintJson(*summary);
    if (!inv->Has("keep") && !inv->Has("dir")) RemoveAll(fs, base).IgnoreError();
    if (!summary) return Fail(summary.error(), inv->json);
    if ((*summary)["validation"] != "ok") {
      return Fail(CorruptionError("restored workspace does not match the snapshot"), false);
    }
    return kExitOk;
  }
  const std::string repo_dir = JoinPath(base, "repo");
  const std::string old_ws = JoinPath(base, "gpu-1/workspace");
  const std::string new_ws = JoinPath(base, "gpu-2/workspace");
  std::vector<DemoStep> steps;
  auto pause = [&](const std::string& next) {
    if (!interactive) return;
    Say("  [Enter] " + next);
    std::string line;
    std::getline(std::cin, line);
  };
  auto fail = [&](const Error& e) { return Fail(e, inv->json); };

  Say("standby demo: snapshot -> machine lost -> restore, in " + base);
  std::mt19937_64 rng(42);
  int64_t t = clock->MonotonicNanos();
  if (Status s = MakeDirs(fs, old_ws); !s) return fail(s.error());
  if (Status s = GenerateWorkspace(fs, old_ws, size_mb << 20, &rng); !s) return fail(s.error());
  steps.push_back(
      {"generate workspace", ElapsedMillis(clock, t), HumanBytes(size_mb << 20) + " on gpu-1"});
  Say("1. generated a GPU workspace on gpu-1 (" + HumanBytes(size_mb << 20) + ")");
  pause("take a full snapshot");

  auto store = FsObjectStore::Create(repo_dir);
  if (!store) return fail(store.error());
  SnapshotOptions snap;
  snap.instance_id = "gpu-1";
  snap.workspace = old_ws;
  t = clock->MonotonicNanos();
  auto full = CreateSnapshot(store->get(), snap);
  if (!full) return fail(full.error());
  steps.push_back({"full snapshot", ElapsedMillis(clock, t),
                   std::to_string(full->header.files_total) + " files, " +
                       HumanBytes(full->header.bytes_uploaded) + " stored"});
  Say("2. full snapshot " + full->header.snapshot_id + ": " + steps.back().detail);
  pause("run a training step and take an incremental snapshot");

  if (Status s = TrainingStep(fs, old_ws, size_mb << 20, &rng); !s) return fail(s.error());
  t = clock->MonotonicNanos();
  auto incremental = CreateSnapshot(store->get(), snap);
  if (!incremental) return fail(incremental.error());
  steps.push_back({"incremental snapshot", ElapsedMillis(clock, t),
                   std::to_string(incremental->header.files_changed) + " of " +
                       std::to_string(incremental->header.files_total) + " files changed, " +
                       HumanBytes(incremental->header.bytes_uploaded) + " uploaded"});
  Say("3. incremental snapshot " + incremental->header.snapshot_id + ": " + steps.back().detail);
  pause("lose the machine");

  t = clock->MonotonicNanos();
  if (Status s = RemoveAll(fs, JoinPath(base, "gpu-1")); !s) return fail(s.error());
  steps.push_back({"machine lost", ElapsedMillis(clock, t), "gpu-1 and its disk are gone"});
  Say("4. gpu-1 is lost: its workspace no longer exists");
  pause("restore the latest snapshot onto gpu-2");

  const int64_t recovery_start = clock->MonotonicNanos();
  t = recovery_start;
  auto repo_store = FsObjectStore::Create(repo_dir);
  if (!repo_store) return fail(repo_store.error());
  auto manifest = LoadSnapshot(repo_store->get(), std::nullopt, std::string("gpu-1"));
  if (!manifest) return fail(manifest.error());
  RestoreOptions restore;
  restore.target = new_ws;
  restore.progress = [](const std::string& line) { Say("   " + line); };
  auto restored = RestoreSnapshot(repo_store->get(), *manifest, restore);
  if (!restored) return fail(restored.error());
  steps.push_back({"restore to gpu-2", ElapsedMillis(clock, t),
                   std::to_string(restored->files_restored) + " files, " +
                       HumanBytes(restored->bytes_restored)});
  Say("5. restored " + manifest->header.snapshot_id + " onto gpu-2");

  t = clock->MonotonicNanos();
  auto verified = VerifyDirectory(*manifest, new_ws, fs);
  if (!verified) return fail(verified.error());
  steps.push_back({"verify every byte", ElapsedMillis(clock, t),
                   "validation " + verified->validation + ", " +
                       std::to_string(verified->files_restored) + "/" +
                       std::to_string(verified->files_expected) + " files"});
  const int64_t recovery_ms = ElapsedMillis(clock, recovery_start);
  Say("6. verified gpu-2 against the snapshot: " + steps.back().detail);

  PrintDemoSteps(steps);
  Say("  restore + verify (the data part of MTTR): " + std::to_string(recovery_ms) + " ms");
  bool ok = verified->validation == "ok";
  if (inv->json) {
    nlohmann::json jsteps = nlohmann::json::array();
    for (const DemoStep& s : steps)
      jsteps.push_back({{"step", s.name}, {"ms", s.ms}, {"detail", s.detail}});
    PrintJson({{"steps", jsteps},
               {"recovery_ms", recovery_ms},
               {"validation", verified->validation},
               {"snapshot_id", manifest->header.snapshot_id},
               {"dir", base}});
  }
  if (!inv->Has("keep") && !inv->Has("dir")) RemoveAll(fs, base).IgnoreError();  // temp demo data
  if (!ok) return Fail(CorruptionError("restored workspace does not match the snapshot"), false);
  return kExitOk;
}

}  // namespace standby
