// Runs the real `standby` binary as an operator would.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "env/file_system.h"
#include "testing/test_util.h"
#include "tests/cli_runner.h"

namespace standby {
namespace {

TEST_F(CliTest, SnapshotRestoreVerifyRoundTripWithJson) {
  Workspace();
  ProcessRun full =
      Standby("snapshot create " + Repo() + " --instance gpu-1 --workspace ws --json");
  ASSERT_EQ(full.exit_code, 0) << full.err;
  auto j = full.json();
  for (const char* field : {"snapshot_id", "snapshot_type", "base_snapshot_id", "files_total",
                            "files_changed", "bytes_total", "bytes_uploaded", "duration_ms"}) {
    EXPECT_TRUE(j.contains(field)) << field;
  }
  EXPECT_EQ(j["snapshot_type"], "full");
  EXPECT_EQ(j["files_total"], 3);

  WriteFile(dir_.Sub("ws/config.json"), "{\"changed\": true}");
  ProcessRun inc = Standby("snapshot create " + Repo() + " --instance gpu-1 --workspace ws --json");
  ASSERT_EQ(inc.exit_code, 0) << inc.err;
  EXPECT_EQ(inc.json()["snapshot_type"], "incremental");
  EXPECT_EQ(inc.json()["files_changed"], 1);
  EXPECT_EQ(inc.json()["base_snapshot_id"], j["snapshot_id"]);
  EXPECT_NE(inc.err.find("Incremental: 1 files changed out of 3 total"), std::string::npos);

  ProcessRun restore = Standby("restore " + Repo() + " --instance gpu-1 --to restored --json");
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  auto r = restore.json();
  EXPECT_EQ(r["validation"], "ok");
  EXPECT_EQ(r["files_restored"], 3);
  EXPECT_EQ(r["files_expected"], 3);
  EXPECT_EQ(r["snapshot_id"], inc.json()["snapshot_id"]);
  for (const char* field : {"bytes_restored", "duration_ms"}) EXPECT_TRUE(r.contains(field));
  EXPECT_NE(restore.err.find("\u2713 Restored 3 files ("), std::string::npos);
  EXPECT_EQ(ReadFile(dir_.Sub("restored/model.bin")), ReadFile(dir_.Sub("ws/model.bin")));

  std::string id = inc.json()["snapshot_id"];
  ProcessRun verify = Standby("verify " + Repo() + " " + id + " --dir restored --json");
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_EQ(verify.json()["validation"], "ok");
  EXPECT_EQ(verify.json()["files_restored"], 3);
  EXPECT_EQ(verify.json()["files_expected"], 3);

  WriteFile(dir_.Sub("restored/notes/a.txt"), std::string(100000, 'b'));
  ProcessRun bad = Standby("verify " + Repo() + " " + id + " --dir restored --json");
  EXPECT_EQ(bad.exit_code, 1);
  // The findings of a failed verification travel inside its error document.
  const nlohmann::json found = bad.json()["error"]["details"];
  EXPECT_EQ(bad.json()["error"]["code"], "corruption");
  EXPECT_EQ(found["validation"], "failed");
  EXPECT_EQ(found["mismatches"][0]["path"], "notes/a.txt");
  EXPECT_EQ(found["mismatches"][0]["problem"], "content");

  ProcessRun list = Standby("snapshot list " + Repo() + " --instance gpu-1 --json");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.json()["count"], 2);
  ProcessRun check = Standby("snapshot verify " + Repo() + " " + id + " --json");
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_EQ(check.json()["validation"], "ok");
  ProcessRun prune = Standby("snapshot prune " + Repo() + " --instance gpu-1 --keep-last 1 --json");
  ASSERT_EQ(prune.exit_code, 0) << prune.err;
  EXPECT_EQ(prune.json()["removed"].size(), 1u);
  EXPECT_EQ(Standby("restore " + Repo() + " " + id + " --to again").exit_code, 0);
}

TEST_F(CliTest, ErrorsAreOneLineWithTheRightExitStatus) {
  ProcessRun no_repo = Standby("snapshot create --instance x --workspace ws");
  EXPECT_EQ(no_repo.exit_code, 1);
  ASSERT_EQ(no_repo.ErrorLines().size(), 1u) << no_repo.err;
  EXPECT_NE(no_repo.err.find("--repo"), std::string::npos);

  ProcessRun usage = Standby("snapshot create " + Repo() + " --bogus");
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_NE(usage.err.find("unknown option --bogus"), std::string::npos);

  ProcessRun missing_ws =
      Standby("snapshot create " + Repo() + " --instance x --workspace nowhere");
  EXPECT_EQ(missing_ws.exit_code, 1);
  ASSERT_EQ(missing_ws.ErrorLines().size(), 1u);
  EXPECT_NE(missing_ws.err.find("nowhere"), std::string::npos);

  ProcessRun no_snapshot = Standby("restore " + Repo() + " --instance ghost --to out --json");
  EXPECT_EQ(no_snapshot.exit_code, 1);
  EXPECT_TRUE(no_snapshot.json().contains("error"));
  EXPECT_EQ(no_snapshot.ErrorLines().size(), 1u);

  ProcessRun s3 = Standby("snapshot list --repo s3://bucket/prefix");
  EXPECT_EQ(s3.exit_code, 1);
  EXPECT_NE(s3.err.find("AWS_ACCESS_KEY_ID"), std::string::npos);  // no credentials given

  ProcessRun unknown = Standby("frobnicate");
  EXPECT_EQ(unknown.exit_code, 2);
}

// `config show` names where each setting came from and never prints a secret.
TEST_F(CliTest, ConfigShowNamesEachSourceAndMasksSecrets) {
  WriteFile(dir_.Sub(".env"), "AWS_SECRET_ACCESS_KEY=do-not-print-me-42\n", 0600);
  WriteFile(dir_.Sub("standby.toml"), "[snapshot]\npack_size_mb = 8\n");
  ProcessRun shown = Standby("config show --json --repo /from/flag --config standby.toml",
                             "STANDBY_S3_REGION=eu-west-1");
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.out.find("do-not-print-me-42"), std::string::npos);
  std::map<std::string, nlohmann::json> by_name;
  const nlohmann::json report = shown.json();
  for (const auto& s : report["settings"]) by_name[s["name"].get<std::string>()] = s;
  EXPECT_EQ(by_name["repo"]["source"], "flag");
  EXPECT_EQ(by_name["s3.region"]["source"], "env");
  EXPECT_EQ(by_name["snapshot.pack_size_mb"]["source"], "config file");
  EXPECT_EQ(by_name["snapshot.pack_size_mb"]["value"], "8");
  EXPECT_EQ(by_name["aws.secret_access_key"]["value"], "***");
  EXPECT_EQ(by_name["aws.secret_access_key"]["source"], ".env");
  EXPECT_EQ(by_name["log_level"]["source"], "default");
  ProcessRun table = Standby("config show");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("aws.secret_access_key (AWS_SECRET_ACCESS_KEY)"), std::string::npos);
  EXPECT_EQ(table.out.find("do-not-print-me-42"), std::string::npos);
}

TEST_F(CliTest, SecretsNeverReachOutput) {
  WriteFile(dir_.Sub(".env"), "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY9\n");
  WriteFile(dir_.Sub("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY9"), "a file, not a repository");
  ProcessRun run =
      Standby("restore --repo " + dir_.Sub("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY9") +
              " --instance a --to out --json");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err.find("wJalrXUtnFEMI/K7MDENG"), std::string::npos) << run.err;
  EXPECT_EQ(run.out.find("wJalrXUtnFEMI/K7MDENG"), std::string::npos) << run.out;
  EXPECT_NE(run.err.find("***"), std::string::npos) << run.err;
}

TEST_F(CliTest, SSH_DemoIsARealFailoverByTheControllerAndLeavesNothing) {
  ProcessRun demo = Standby("demo --non-interactive --size-mb 16 --json");
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  nlohmann::json summary = demo.json();
  EXPECT_TRUE(summary["answer_matches"].get<bool>());
  EXPECT_EQ(summary["leaked_instances"], 0);
  const nlohmann::json& f = summary["failover"];
  EXPECT_EQ(f["trigger"], "host_dead");
  EXPECT_TRUE(f["success"].get<bool>());
  EXPECT_EQ(f["snapshot_id"], summary["incremental_snapshot"]);
  EXPECT_EQ(f["snapshot_type"], "incremental");
  EXPECT_EQ(f["base_snapshot_id"], summary["full_snapshot"]);
  EXPECT_EQ(f["files_restored"], f["files_expected"]);
  EXPECT_GT(f["files_expected"].get<int>(), 0);
  EXPECT_EQ(f["fence"], "confirmed");
  for (const char* phase : {"gpu_provisioning_time_ms", "restore_ms", "validation_ms",
                            "workload_start_ms", "health_check_ms", "total_ms"}) {
    EXPECT_GT(f[phase].get<int64_t>(), 0) << phase;
  }
  // The controller's own timeline, not a scripted one.
  EXPECT_NE(demo.err.find("failover " + f["failover_id"].get<std::string>() + " done"),
            std::string::npos);
  EXPECT_NE(demo.err.find("\"validation\":\"ok\""), std::string::npos);
  EXPECT_NE(demo.err.find("107.9 s"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(summary["dir"].get<std::string>()));  // hosts and all
}

TEST_F(CliTest, DbMigrateAndMetricsOnTheEmbeddedSqlite) {
  std::string env = "STANDBY_STATE_DIR=" + dir_.Sub("state");
  ProcessRun migrate = Standby("db migrate --json", env);
  ASSERT_EQ(migrate.exit_code, 0) << migrate.err;
  EXPECT_EQ(migrate.json()["database"], "sqlite://" + dir_.Sub("state/standby.db"));
  EXPECT_EQ(Standby("db migrate --json", env).exit_code, 0);  // idempotent
  ProcessRun metrics = Standby("metrics --by trigger --json", env);
  ASSERT_EQ(metrics.exit_code, 0) << metrics.err;
  EXPECT_EQ(metrics.json()["by"], "trigger");
  EXPECT_TRUE(metrics.json()["failover_summary"].is_array());
  EXPECT_EQ(Standby("metrics --by colour", env).exit_code, 2);
  ProcessRun bad = Standby("db migrate", "DATABASE_URL=mysql://user:hunter2pw@host/db");
  EXPECT_EQ(bad.exit_code, 1);
  ASSERT_EQ(bad.ErrorLines().size(), 1u) << bad.err;
  EXPECT_NE(bad.err.find("DATABASE_URL must be"), std::string::npos);
  EXPECT_EQ(bad.err.find("hunter2pw"), std::string::npos);
}

// Needs root for a real tmpfs; CI runs as root.
TEST_F(CliTest, ROOT_RestoreOntoAFullDiskFailsCleanly) {
  ASSERT_EQ(::geteuid(), 0u) << "ROOT_ tests need root (CI runs as root)";
  Workspace();
  ASSERT_EQ(Standby("snapshot create " + Repo() + " --instance gpu-1 --workspace ws").exit_code, 0);
  std::string mnt = dir_.Sub("small");
  WriteFile(mnt + "/.keep", "");
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m"), 0) << std::strerror(errno);
  ProcessRun run = Standby("restore " + Repo() + " --instance gpu-1 --to small/target");
  std::vector<std::string> left;
  if (auto names = FileSystem::Real()->ListDir(mnt + "/target")) left = *names;
  ::umount(mnt.c_str());
  EXPECT_EQ(run.exit_code, 1);
  ASSERT_EQ(run.ErrorLines().size(), 1u) << run.err;
  EXPECT_NE(run.err.find("free"), std::string::npos) << run.err;
  for (const std::string& name : left) {
    EXPECT_FALSE(name == "model.bin") << "a file the disk could not hold appeared";
  }
}

}  // namespace
}  // namespace standby
