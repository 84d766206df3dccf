// Interrupted and mistaken commands, as a user makes them: Ctrl-C mid-way, a killed process,
// a mistyped path, a repository in the wrong place, an unknown id. Each must leave nothing
// behind and say, in one line, what state it left and what to do next.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <utime.h>

#include <filesystem>
#include <thread>

#include "state/open_state_store.h"
#include "tests/cli_runner.h"

namespace standby {
namespace {

namespace fs = std::filesystem;

class MistakesCliTest : public CliTest {
 protected:
  // Files under `root` whose name contains `part`.
  std::vector<std::string> Find(const std::string& root, const std::string& part) {
    std::vector<std::string> found;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec) &&
          it->path().filename().string().find(part) != std::string::npos) {
        found.push_back(it->path().string());
      }
    }
    return found;
  }
  // A workspace big enough that snapshotting or restoring it takes a while.
  void BigWorkspace() {
    for (int i = 0; i < 6; ++i) {
      WriteFile(dir_.Sub("ws/data/part" + std::to_string(i) + ".bin"),
                RandomBytes(32 << 20, 100 + i));
    }
    WriteFile(dir_.Sub("ws/config.json"), "{}");
  }
  // Waits (bounded) until `ready` holds, then sends `sig` to `pid`. False when it never held.
  bool SignalWhen(pid_t pid, int sig, const std::function<bool()>& ready) {
    if (!WaitUntil(ready, std::chrono::seconds(20), std::chrono::milliseconds(2))) return false;
    ::kill(pid, sig);
    return true;
  }
  std::string Snapshot(const std::string& extra = "") {
    return "snapshot create " + Repo() + " --instance gpu-1 --workspace ws " + extra;
  }
};

// Ctrl-C in the middle of a snapshot, then of a restore: each stops, cleans up, releases its
// lock and says what it left; the restore resumes with --overwrite.
TEST_F(MistakesCliTest, CtrlCDuringSnapshotAndRestoreLeavesNothingBehind) {
  WriteFile(dir_.Sub("ws/config.json"), "{}");
  ProcessRun first = Standby(Snapshot("--json"));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  BigWorkspace();

  pid_t snapshot = StartStandby(Snapshot("--threads 1 --compression zstd --pack-size-mb 1"));
  ASSERT_TRUE(
      SignalWhen(snapshot, SIGINT, [&] { return Find(dir_.Sub("repo/packs"), "").size() > 4; }));
  ProcessRun interrupted = Finish(snapshot);
  EXPECT_EQ(interrupted.exit_code, 130) << interrupted.err;
  EXPECT_NE(interrupted.err.find("interrupted: no snapshot was taken; the latest snapshot of "
                                 "gpu-1 is unchanged and the repository lock is released"),
            std::string::npos)
      << interrupted.err;
  EXPECT_TRUE(Find(dir_.Sub("repo/locks"), "").empty());
  EXPECT_TRUE(Find(dir_.Sub("repo"), ".standby-tmp-").empty());
  ProcessRun listed = Standby("snapshot list " + Repo() + " --json");
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.json()["count"], 1);
  // Prune neither waits for the interrupted snapshot nor keeps the packs it uploaded.
  ProcessRun pruned = Standby("snapshot prune " + Repo() +
                              " --instance gpu-1 --keep-last 1 --json "
                              "--lock-wait-seconds 0");
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_GT(pruned.json()["packs_deleted"].get<int>(), 0);

  ::chmod(dir_.Sub("ws/data").c_str(), 0750);
  ProcessRun full = Standby(Snapshot("--pack-size-mb 1 --json"));
  ASSERT_EQ(full.exit_code, 0) << full.err;
  pid_t restore = StartStandby("restore " + Repo() + " --instance gpu-1 --to out --threads 1");
  ASSERT_TRUE(SignalWhen(restore, SIGINT,
                         [&] { return !Find(dir_.Sub("out"), ".standby-restore-").empty(); }));
  ProcessRun stopped = Finish(restore);
  EXPECT_EQ(stopped.exit_code, 130) << stopped.err;
  EXPECT_NE(stopped.err.find("interrupted: restore of snapshot"), std::string::npos) << stopped.err;
  EXPECT_NE(stopped.err.find("temporary files removed; re-run with --overwrite to resume"),
            std::string::npos)
      << stopped.err;
  EXPECT_TRUE(Find(dir_.Sub("out"), ".standby-restore-").empty());
  struct stat st {};
  ASSERT_EQ(::stat(dir_.Sub("out/data").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u) << "a directory was left with its temporary mode";

  ProcessRun resumed =
      Standby("restore " + Repo() + " --instance gpu-1 --to out --overwrite --json");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(resumed.json()["validation"], "ok");
  EXPECT_EQ(ReadFile(dir_.Sub("out/data/part5.bin")), ReadFile(dir_.Sub("ws/data/part5.bin")));
}

// A snapshot killed outright (kill -9) cannot clean up: its lock is recognised as a dead
// process's at once, `unlock` shows and removes such locks, and prune removes partial uploads
// once they are old enough that no live writer can own them.
TEST_F(MistakesCliTest, AKilledSnapshotsLockIsBrokenAtOnceAndItsLeftoversPruned) {
  WriteFile(dir_.Sub("ws/config.json"), "{}");
  ASSERT_EQ(Standby(Snapshot()).exit_code, 0);
  BigWorkspace();
  for (int round = 0; round < 2; ++round) {
    // Killed mid-upload: its lock is in place and it has added packs of its own (packs left
    // by an earlier round do not count).
    const size_t packs_before = Find(dir_.Sub("repo/packs"), "").size();
    pid_t killed = StartStandby(Snapshot("--threads 1 --compression zstd --pack-size-mb 1"));
    ASSERT_TRUE(SignalWhen(killed, SIGKILL, [&] {
      return Find(dir_.Sub("repo/locks"), "").size() == 1 &&
             Find(dir_.Sub("repo/packs"), "").size() > packs_before + 2;
    }));
    Finish(killed);
    ASSERT_EQ(Find(dir_.Sub("repo/locks"), "").size(), 1u) << "kill -9 leaves its lock";
    if (round == 0) {
      ProcessRun pruned = Standby("snapshot prune " + Repo() +
                                  " --instance gpu-1 --keep-last 1 --lock-wait-seconds 0");
      EXPECT_EQ(pruned.exit_code, 0) << pruned.err;
      EXPECT_NE(pruned.err.find("which is no longer running"), std::string::npos) << pruned.err;
    } else {
      ProcessRun unlocked = Standby("unlock " + Repo());
      EXPECT_EQ(unlocked.exit_code, 0) << unlocked.err;
      EXPECT_NE(unlocked.out.find("removed shared lock of snapshot create on"), std::string::npos)
          << unlocked.out;
      EXPECT_NE(unlocked.out.find("(its process is gone)"), std::string::npos) << unlocked.out;
    }
    EXPECT_TRUE(Find(dir_.Sub("repo/locks"), "").empty());
  }
  ProcessRun none = Standby("unlock " + Repo());
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_NE(none.out.find("the repository has no locks"), std::string::npos) << none.out;

  const std::string old_part = dir_.Sub("repo/packs/gpu-1/.standby-tmp-old");
  const std::string new_part = dir_.Sub("repo/packs/gpu-1/.standby-tmp-new");
  WriteFile(old_part, std::string(4096, 'x'));
  WriteFile(new_part, std::string(4096, 'y'));
  struct utimbuf two_hours_ago {};
  two_hours_ago.actime = two_hours_ago.modtime = ::time(nullptr) - 7200;
  ASSERT_EQ(::utime(old_part.c_str(), &two_hours_ago), 0);
  ProcessRun pruned = Standby("snapshot prune " + Repo() + " --instance gpu-1 --keep-last 1");
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_FALSE(fs::exists(old_part));
  EXPECT_TRUE(fs::exists(new_part)) << "a partial upload that may still be live was removed";
}

// Read-only commands never create anything; a mistyped --repo says so; a snapshot of a
// missing workspace leaves no new repository behind.
TEST_F(MistakesCliTest, AMistypedRepositoryIsNamedAndNeverCreated) {
  const std::string typo = dir_.Sub("repo-typo");
  for (const std::string& command :
       {"snapshot list --repo " + typo, "restore --repo " + typo + " --instance a --to out",
        "verify --repo " + typo + " 20260101T000000Z-abcd --dir out",
        "snapshot verify --repo " + typo + " 20260101T000000Z-abcd",
        "snapshot prune --repo " + typo + " --instance a --keep-last 1", "unlock --repo " + typo}) {
    ProcessRun run = Standby(command);
    EXPECT_EQ(run.exit_code, 1) << command;
    ASSERT_EQ(run.ErrorLines().size(), 1u) << command << ": " << run.err;
    EXPECT_NE(run.err.find("no such directory " + typo + "; check --repo"), std::string::npos)
        << command << ": " << run.err;
    EXPECT_FALSE(fs::exists(typo)) << command << " created the repository";
  }
  fs::create_directories(dir_.Sub("empty"));
  ProcessRun empty = Standby("snapshot list --repo " + dir_.Sub("empty"));
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_NE(empty.err.find("no standby repository at file://" + dir_.Sub("empty") +
                           " (it has no config object); check --repo"),
            std::string::npos)
      << empty.err;

  ProcessRun no_workspace =
      Standby("snapshot create --repo " + typo + " --instance a --workspace nowhere");
  EXPECT_EQ(no_workspace.exit_code, 1);
  EXPECT_EQ(no_workspace.ErrorLines().size(), 1u) << no_workspace.err;
  EXPECT_FALSE(fs::exists(typo)) << "a failed snapshot left a new repository behind";
}

// A repository inside the workspace is left out of its snapshots (it would copy itself,
// growing every time), with a warning; repository files are private whatever the umask.
TEST_F(MistakesCliTest, ARepositoryInsideTheWorkspaceIsLeftOutAndFilesArePrivate) {
  Workspace();
  const mode_t old_umask = ::umask(022);
  const std::string inside = "--repo " + dir_.Sub("ws/.standby-repo");
  ProcessRun first = Standby("snapshot create " + inside + " --instance a --workspace ws --json");
  ProcessRun second = Standby("snapshot create " + inside + " --instance a --workspace ws --json");
  ::umask(old_umask);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(first.err.find("is inside the workspace; leaving it out of the snapshot"),
            std::string::npos)
      << first.err;
  EXPECT_EQ(second.json()["files_total"], first.json()["files_total"]);
  EXPECT_EQ(second.json()["bytes_total"], first.json()["bytes_total"]);
  EXPECT_EQ(second.json()["files_changed"], 0);
  size_t checked = 0;
  struct stat root {};
  ASSERT_EQ(::stat(dir_.Sub("ws/.standby-repo").c_str(), &root), 0);
  EXPECT_EQ(root.st_mode & 0777, 0700u);
  for (const auto& entry : fs::recursive_directory_iterator(dir_.Sub("ws/.standby-repo"))) {
    const auto perms = entry.status().permissions();
    const bool others = (perms & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none;
    EXPECT_FALSE(others) << entry.path() << " is readable by others";
    ++checked;
  }
  EXPECT_GT(checked, 5u);
  ProcessRun refused =
      Standby("snapshot create --repo " + dir_.Sub("ws") + " --instance a --workspace ws");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("contains the workspace"), std::string::npos) << refused.err;
}

// A damaged chunk is named with the file it belongs to and the next step; nothing partial
// is left under a temporary or a final name.
TEST_F(MistakesCliTest, ARestoreOfADamagedChunkNamesTheFileAndTheNextStep) {
  WriteFile(dir_.Sub("ws/model.bin"), RandomBytes(3 << 20, 7));
  ProcessRun snap = Standby(Snapshot("--json"));
  ASSERT_EQ(snap.exit_code, 0) << snap.err;
  std::vector<std::string> packs = Find(dir_.Sub("repo/packs"), "");
  ASSERT_EQ(packs.size(), 1u);
  const std::string pack = packs[0];
  std::string bytes = ReadFile(pack);
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i) bytes[i] ^= 0x5a;
  WriteFile(pack, bytes, 0600);
  ProcessRun restore = Standby("restore " + Repo() + " --instance gpu-1 --to out");
  EXPECT_EQ(restore.exit_code, 1);
  ASSERT_EQ(restore.ErrorLines().size(), 1u) << restore.err;
  EXPECT_NE(restore.err.find(" of model.bin (at byte "), std::string::npos) << restore.err;
  EXPECT_NE(restore.err.find("is damaged in the repository; `standby snapshot verify " +
                             snap.json()["snapshot_id"].get<std::string>()),
            std::string::npos)
      << restore.err;
  EXPECT_TRUE(Find(dir_.Sub("out"), ".standby-restore-").empty());
  EXPECT_FALSE(fs::exists(dir_.Sub("out/model.bin")));
}

// Ids that name nothing are errors, not silent successes; a snapshot taken by hand is in
// the state store like the controller's.
TEST_F(MistakesCliTest, UnknownIdsAreErrorsAndHandSnapshotsAreRecorded) {
  const std::string env = "STANDBY_STATE_DIR=" + dir_.Sub("state");
  Workspace();
  ProcessRun snap = Standby(Snapshot("--json"), env);
  ASSERT_EQ(snap.exit_code, 0) << snap.err;
  auto state = OpenStateStore("", dir_.Sub("state"));
  ASSERT_TRUE(state.has_value()) << state.error().message;
  auto recorded = (*state)->ListSnapshots("gpu-1");
  ASSERT_TRUE(recorded.has_value()) << recorded.error().message;
  ASSERT_EQ(recorded->size(), 1u);
  EXPECT_EQ((*recorded)[0].snapshot_id, snap.json()["snapshot_id"]);
  EXPECT_EQ((*recorded)[0].files_total, 3);

  ProcessRun prune = Standby("snapshot prune " + Repo() + " --instance nope --keep-last 1", env);
  EXPECT_EQ(prune.exit_code, 1);
  EXPECT_NE(prune.err.find("instance nope has no snapshots in"), std::string::npos) << prune.err;
  ProcessRun destroy = Standby("destroy 999999", env);
  EXPECT_EQ(destroy.exit_code, 1);
  EXPECT_NE(destroy.err.find("instance 999999 not found on local; already gone?"),
            std::string::npos)
      << destroy.err;
  ProcessRun kill = Standby("market kill 999999", env);
  EXPECT_EQ(kill.exit_code, 1);
  ASSERT_EQ(kill.ErrorLines().size(), 1u) << kill.err;
  EXPECT_NE(kill.err.find("instance 999999 not found on the local market; already gone?"),
            std::string::npos)
      << kill.err;
}

// GPU names match whatever their case and spacing; a name nothing matches says what exists,
// for offers and for provision (which then launches nothing).
TEST_F(MistakesCliTest, GpuNamesMatchLooselyAndAMissSaysWhatIsAvailable) {
  const std::string env = "STANDBY_STATE_DIR=" + dir_.Sub("state");
  ProcessRun exact = Standby("offers --gpu 'RTX 4090' --json", env);
  ASSERT_EQ(exact.exit_code, 0) << exact.err;
  ASSERT_FALSE(exact.json()["offers"].empty());
  for (const char* spelling : {"'rtx 4090'", "RTX4090", "rtx_4090"}) {
    ProcessRun loose = Standby(std::string("offers --gpu ") + spelling + " --json", env);
    ASSERT_EQ(loose.exit_code, 0) << loose.err;
    EXPECT_EQ(loose.json()["offers"], exact.json()["offers"]) << spelling;
  }
  for (const char* command : {"offers --gpu 'RTX 9999'", "provision --gpu 'RTX 9999'"}) {
    ProcessRun miss = Standby(command, env);
    EXPECT_EQ(miss.exit_code, 1) << command;
    ASSERT_EQ(miss.ErrorLines().size(), 1u) << miss.err;
    EXPECT_NE(miss.err.find("no offer on local matches --gpu 'RTX 9999' (available: "),
              std::string::npos)
        << miss.err;
    EXPECT_NE(miss.err.find("RTX 4090"), std::string::npos) << miss.err;
  }
  EXPECT_FALSE(fs::exists(dir_.Sub("state/market/hosts")) &&
               !fs::is_empty(dir_.Sub("state/market/hosts")))
      << "a provision that matched nothing launched something";
}

}  // namespace
}  // namespace standby
