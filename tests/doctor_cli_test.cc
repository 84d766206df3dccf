// `standby doctor` against a real deployment (s3rver, SQLite, the local market): a healthy
// one passes every check; each broken piece fails its own check, with its fix, and exit 1.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "env/loopback.h"
#include "testing/s3rver.h"
#include "tests/cli_runner.h"

namespace standby {
namespace {

class DoctorCliTest : public S3CliTest {
 protected:
  std::string Env(int s3_port = 0) {
    return "STANDBY_STATE_DIR=" + dir_.Sub("state") + " " + S3Env(s3_port);
  }
  // The doctor's findings by check name, and its exit status.
  struct Findings {
    int exit_code = -1;
    std::map<std::string, nlohmann::json> by_name;
    std::string outcome(const std::string& name) const {
      auto it = by_name.find(name);
      return it == by_name.end() ? "absent" : it->second["outcome"].get<std::string>();
    }
    std::string fix(const std::string& name) const {
      auto it = by_name.find(name);
      return it == by_name.end() ? "" : it->second.value("fix", "");
    }
  };
  Findings Doctor(const std::string& env, const std::string& wrapper = "") {
    ProcessRun run = Standby("doctor --repo s3://standby-test/doctor --json", env, wrapper);
    Findings f;
    f.exit_code = run.exit_code;
    if (!nlohmann::json::accept(run.out)) {
      ADD_FAILURE() << "doctor printed no JSON (exit " << run.exit_code << "): " << run.err;
      return f;
    }
    const nlohmann::json parsed = run.json();  // a failed doctor's report is in its error
    const nlohmann::json report = parsed.contains("error") ? parsed["error"]["details"] : parsed;
    for (const auto& c : report["checks"]) f.by_name[c["check"].get<std::string>()] = c;
    EXPECT_EQ(report["ok"], run.exit_code == 0) << run.out;
    return f;
  }
  // Every check but `broken` passed (or was skipped because `broken` failed).
  void OnlyFailed(const Findings& f, const std::string& broken) {
    EXPECT_EQ(f.exit_code, 1);
    EXPECT_EQ(f.outcome(broken), "failed");
    for (const auto& [name, check] : f.by_name) {
      if (name != broken) {
        EXPECT_NE(check["outcome"], "failed") << check.dump();
      }
    }
  }
};

TEST_F(DoctorCliTest, AHealthySetupPassesAndEachBrokenPieceFailsItsCheckWithTheFix) {
  Findings healthy = Doctor(Env());
  EXPECT_EQ(healthy.exit_code, 0);
  size_t probes = 0;  // the probe object is gone again
  for (const auto& entry : std::filesystem::recursive_directory_iterator(server_->data_dir())) {
    probes += entry.path().string().find("doctor-probe-") != std::string::npos;
  }
  EXPECT_EQ(probes, 0u);
  for (const char* name : {"state store", "object store", "clock", "ssh key", "provider", "agent",
                           "state dir space"}) {
    EXPECT_EQ(healthy.outcome(name), "ok") << name;
  }
  EXPECT_NE(healthy.outcome("time sync"), "absent");  // skipped where timedatectl is missing

  // A wrong secret, as a signature-checking store answers it.
  int proxy_port = FreeLoopbackPort();
  auto proxy =
      SpawnChild({"node", SourceDir() + "/tests/tools/faulty_proxy.js", std::to_string(proxy_port),
                  std::to_string(server_->port()), "signature", "1"});
  ASSERT_TRUE(proxy.has_value());
  ASSERT_TRUE(WaitForPort(proxy_port, 10000));
  Findings secret = Doctor(Env(proxy_port));
  OnlyFailed(secret, "object store");
  EXPECT_NE(secret.fix("object store").find("check the credentials"), std::string::npos);
  StopChild(*proxy);

  // The store stopped.
  Findings stopped = Doctor(Env(FreeLoopbackPort()));
  OnlyFailed(stopped, "object store");
  EXPECT_NE(stopped.fix("object store").find("start the store"), std::string::npos);

  // The database gone.
  Findings database = Doctor(Env() + " DATABASE_URL=postgresql://standby@127.0.0.1:" +
                             std::to_string(FreeLoopbackPort()) + "/standby");
  OnlyFailed(database, "state store");
  EXPECT_NE(database.fix("state store").find("start the database"), std::string::npos);
  EXPECT_EQ(database.outcome("provider"), "skipped");

  // This clock 20 minutes ahead of the store's.
  // (faketime preloads itself; under ASan the runtime must be told that is fine.)
  Findings clock = Doctor("ASAN_OPTIONS=verify_asan_link_order=0 " + Env(), "faketime -f +20m");
  OnlyFailed(clock, "clock");
  // The store's Date has whole seconds: 1199 or 1200 s, ahead.
  const std::string skew = clock.by_name["clock"]["detail"];
  EXPECT_NE(skew.find(" s ahead of"), std::string::npos) << skew;
  EXPECT_GE(std::atoi(skew.substr(skew.find("clock is ") + 9).c_str()), 1190) << skew;

  // The controller's key readable by everyone.
  ASSERT_EQ(::chmod(dir_.Sub("state/ssh/id_ed25519").c_str(), 0644), 0);
  Findings key = Doctor(Env());
  OnlyFailed(key, "ssh key");
  EXPECT_NE(key.fix("ssh key").find("chmod 600"), std::string::npos);
  EXPECT_EQ(key.outcome("provider"), "skipped");
}

}  // namespace
}  // namespace standby
