#include "config/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "testing/s3rver.h"
#include "testing/test_util.h"

namespace standby {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class ConfigTest : public ::testing::Test {
 protected:
  ConfigInputs Inputs(std::map<std::string, std::string> env = {}) {
    ConfigInputs in;
    in.env = FakeEnv(std::move(env));
    in.dotenv_path = dir_.Sub(".env");
    return in;
  }
  TempDir dir_;
};

TEST_F(ConfigTest, PrecedenceIsFlagsEnvDotenvTomlDefaults) {
  WriteFile(dir_.Sub("standby.toml"),
            "repo = \"/from/toml\"\nthreads = 3\nlog_level = \"debug\"\n[snapshot]\ncompression = "
            "\"zstd\"\n"
            "pack_size_mb = 32\n");
  WriteFile(dir_.Sub(".env"),
            "# comment\nexport AWS_ACCESS_KEY_ID=from-dotenv\nAWS_SESSION_TOKEN='token'\n"
            "VAST_API_KEY=dotenv-key\n");
  ConfigInputs in = Inputs(
      {{"STANDBY_REPO", "/from/env"}, {"STANDBY_THREADS", "7"}, {"VAST_API_KEY", "env-key"}});
  in.config_file = dir_.Sub("standby.toml");
  in.flags["repo"] = "/from/flag";
  ASSERT_OK_AND_ASSIGN(Config config, Config::Load(in));
  EXPECT_EQ(config.Get("repo"), "/from/flag");
  EXPECT_EQ(config.SourceOf("repo"), "flag");
  EXPECT_EQ(config.GetUint("threads").value(), 7u);
  EXPECT_EQ(config.SourceOf("threads"), "env");
  EXPECT_EQ(config.Get("aws.access_key_id"), "from-dotenv");
  EXPECT_EQ(config.SourceOf("aws.access_key_id"), ".env");
  EXPECT_EQ(config.Get("aws.session_token"), "token");
  EXPECT_EQ(config.Get("vast.api_key"), "env-key");
  EXPECT_EQ(config.SourceOf("vast.api_key"), "env");
  EXPECT_EQ(config.GetUint("snapshot.pack_size_mb").value(), 32u);
  EXPECT_EQ(config.Get("snapshot.compression"), "zstd");
  EXPECT_EQ(config.SourceOf("snapshot.compression"), "config file");
  EXPECT_EQ(config.Get("snapshot.interval_minutes"), "60");
  EXPECT_EQ(config.SourceOf("snapshot.interval_minutes"), "default");
}

TEST_F(ConfigTest, ConfigFileComesFromTheEnvironmentToo) {
  WriteFile(dir_.Sub("c.toml"), "[s3]\nregion = \"eu-central-003\"\npath_style = true\n");
  ASSERT_OK_AND_ASSIGN(Config config,
                       Config::Load(Inputs({{"STANDBY_CONFIG", dir_.Sub("c.toml")}})));
  EXPECT_EQ(config.Get("s3.region"), "eu-central-003");
  EXPECT_TRUE(config.GetBool("s3.path_style").value());
}

TEST_F(ConfigTest, SecretsAreRefusedInTheConfigFileAndInFlags) {
  WriteFile(dir_.Sub("c.toml"), "[aws]\nsecret_access_key = \"hunter2hunter2\"\n");
  ConfigInputs in = Inputs();
  in.config_file = dir_.Sub("c.toml");
  auto loaded = Config::Load(in);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_NE(loaded.error().message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
  EXPECT_EQ(loaded.error().message.find("hunter2"), std::string::npos);
  ConfigInputs flagged = Inputs();
  flagged.flags["vast.api_key"] = "k";
  EXPECT_FALSE(Config::Load(flagged).has_value());
}

TEST_F(ConfigTest, SecretsFromTheEnvironmentAreRedacted) {
  ASSERT_OK_AND_ASSIGN(Config config,
                       Config::Load(Inputs({{"B2_APPLICATION_KEY", "K005sEcReTvalue"}})));
  EXPECT_EQ(config.Get("b2.application_key"), "K005sEcReTvalue");
  EXPECT_EQ(Redact("signing with K005sEcReTvalue failed"), "signing with *** failed");
}

TEST_F(ConfigTest, BadInputNamesTheFileAndLine) {
  WriteFile(dir_.Sub("bad.toml"), "repo = \"/x\"\nbogus = 1\n");
  ConfigInputs in = Inputs();
  in.config_file = dir_.Sub("bad.toml");
  auto unknown = Config::Load(in);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("bad.toml:2"), std::string::npos);
  WriteFile(dir_.Sub("broken.toml"), "repo = \n");
  in.config_file = dir_.Sub("broken.toml");
  EXPECT_FALSE(Config::Load(in).has_value());
  in.config_file = dir_.Sub("missing.toml");
  EXPECT_FALSE(Config::Load(in).has_value());
  WriteFile(dir_.Sub(".env"), "JUSTAWORD\n");
  auto dotenv = Config::Load(Inputs());
  ASSERT_FALSE(dotenv.has_value());
  EXPECT_NE(dotenv.error().message.find("line 1"), std::string::npos);
  ASSERT_EQ(::unlink(dir_.Sub(".env").c_str()), 0);
  // A FIFO named .env (nobody writes to it) is refused at once instead of hanging.
  ASSERT_EQ(::mkfifo(dir_.Sub(".env").c_str(), 0600), 0);
  auto fifo = Config::Load(Inputs());
  ASSERT_FALSE(fifo.has_value());
  EXPECT_NE(fifo.error().message.find("not a regular file"), std::string::npos)
      << fifo.error().message;
  ASSERT_EQ(::unlink(dir_.Sub(".env").c_str()), 0);
  ASSERT_OK_AND_ASSIGN(Config config, Config::Load(Inputs({{"STANDBY_THREADS", "many"}})));
  EXPECT_FALSE(config.GetUint("threads").has_value());
}

// A .env planted in the working directory must not redirect the Vast key (VAST_URL) or choose
// the binary uploaded to every host (STANDBY_AGENT); nor may one writable by others be read.
TEST_F(ConfigTest, DotEnvSuppliesOnlySecretsAndOnlyFromAFileOnlyWeCanWrite) {
  for (const std::string planted : {"VAST_URL=https://evil.example\n", "STANDBY_AGENT=/tmp/x\n"}) {
    WriteFile(dir_.Sub(".env"), "VAST_API_KEY=k\n" + planted);
    auto config = Config::Load(Inputs({}));
    ASSERT_FALSE(config.has_value()) << planted;
    EXPECT_NE(config.error().message.find("which is not a secret"), std::string::npos)
        << config.error().message;
  }
  WriteFile(dir_.Sub(".env"), "VAST_API_KEY=k\n", 0666);
  ASSERT_EQ(::chmod(dir_.Sub(".env").c_str(), 0666), 0);
  auto loose = Config::Load(Inputs({}));
  ASSERT_FALSE(loose.has_value());
  EXPECT_EQ(loose.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(loose.error().message.find("writable by group or others"), std::string::npos);
  ASSERT_EQ(::chmod(dir_.Sub(".env").c_str(), 0600), 0);
  ASSERT_OK_AND_ASSIGN(Config config, Config::Load(Inputs({})));
  EXPECT_EQ(config.Get("vast.api_key"), "k");
}

}  // namespace
}  // namespace standby

namespace standby {
namespace {

// docs/examples/standby.toml is the settings reference users copy: it must parse, set every
// setting that has a default to exactly that default, name every other one (commented out,
// with its variable) and every secret's variable, and never set a secret.
TEST_F(ConfigTest, TheExampleConfigFileListsEverySettingWithItsDefault) {
  const std::string path = SourceDir() + "/docs/examples/standby.toml";
  const std::string text = ReadFile(path);
  ConfigInputs in = Inputs();
  in.config_file = path;
  ASSERT_OK_AND_ASSIGN(Config config, Config::Load(in));
  for (const SettingSpec& spec : AllSettings()) {
    const std::string name(spec.name);
    const std::string described =
        spec.secret ? "#   " + std::string(spec.env) + ": " : "(" + std::string(spec.env) + ")";
    EXPECT_NE(text.find(described), std::string::npos) << name << " is not described";
    if (spec.secret || spec.default_value.empty()) {
      EXPECT_NE(config.SourceOf(name), "config file") << name;
      if (!spec.secret) {
        const std::string key = name.substr(name.find('.') + 1);
        EXPECT_NE(text.find("# " + (name.find('.') == std::string::npos ? name : key) + " = "),
                  std::string::npos)
            << name << " is not shown commented out";
      }
      continue;
    }
    EXPECT_EQ(config.SourceOf(name), "config file") << name << " is missing";
    EXPECT_EQ(config.Get(name).value_or(""), spec.default_value) << name;
  }
}

// `config show`'s rows: every setting, its winning value and source, secrets masked.
TEST_F(ConfigTest, ShownSettingsNameTheirSourceAndMaskSecrets) {
  WriteFile(dir_.Sub(".env"), "AWS_SECRET_ACCESS_KEY=very-secret-value\n", 0600);
  ConfigInputs in = Inputs({{"STANDBY_S3_REGION", "eu-west-1"}});
  in.flags["repo"] = "/from/flag";
  ASSERT_OK_AND_ASSIGN(Config config, Config::Load(in));
  std::map<std::string, ShownSetting> by_name;
  for (const ShownSetting& s : ShowSettings(config)) by_name[s.name] = s;
  EXPECT_EQ(by_name.size(), AllSettings().size());
  EXPECT_EQ(by_name["repo"].value, "/from/flag");
  EXPECT_EQ(by_name["repo"].source, "flag");
  EXPECT_EQ(by_name["s3.region"].value, "eu-west-1");
  EXPECT_EQ(by_name["s3.region"].source, "env");
  EXPECT_EQ(by_name["aws.secret_access_key"].value, "***");
  EXPECT_EQ(by_name["aws.secret_access_key"].source, ".env");
  EXPECT_EQ(by_name["log_level"].source, "default");
  EXPECT_EQ(by_name["vast.api_key"].source, "unset");
  EXPECT_EQ(by_name["vast.api_key"].value, "");
}

}  // namespace
}  // namespace standby
