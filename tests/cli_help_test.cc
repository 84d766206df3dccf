// The command line's self-description, all written from one command table
// (src/cli/command_table.cc): `help`, `CMD --help`, suggestions for mistakes, `--json` forms,
// shell completion and the man page.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "base/strings.h"
#include "tests/cli_runner.h"

namespace standby {
namespace {

class CliHelpTest : public CliTest {
 protected:
  nlohmann::json Table() {
    ProcessRun help = Standby("help --json");
    EXPECT_EQ(help.exit_code, 0) << help.err;
    return help.json();
  }
};

// What `CMD --help` lists is the table's options, and every option a command's file reads
// from its invocation (inv->Flag / inv->Has) is in that command's table: nothing bypasses
// it. The shared helpers (command.cc, provider_access.cc, remote.cc) are held to the union
// of all tables; any other file must name its commands.
TEST_F(CliHelpTest, EveryCommandsHelpListsExactlyTheOptionsItsParserAccepts) {
  const nlohmann::json table = Table();
  ASSERT_GE(table["commands"].size(), 30u);
  std::set<std::string> every_option;
  std::map<std::string, std::set<std::string>> options_of;
  for (const auto& command : table["commands"]) {
    const std::string name = command["command"];
    ProcessRun help = Standby(name + " --help");
    ASSERT_EQ(help.exit_code, 0) << name << ": " << help.err;
    std::set<std::string> listed, expected;
    std::regex option_line("^  (--[a-z0-9-]+)");
    std::istringstream lines(help.out);
    for (std::string line; std::getline(lines, line);) {
      std::smatch m;
      if (std::regex_search(line, m, option_line)) listed.insert(m[1]);
    }
    for (const auto& o : command["options"]) {
      expected.insert(o["name"].get<std::string>());
      every_option.insert(o["name"].get<std::string>().substr(2));
      options_of[name].insert(o["name"].get<std::string>().substr(2));
    }
    EXPECT_EQ(listed, expected) << name;
    // An option the table does not list is refused, with the nearest that it does.
    ProcessRun bogus = Standby(name + " --jsno");
    EXPECT_EQ(bogus.exit_code, 2) << name;
    EXPECT_NE(bogus.err.find("unknown option --jsno"), std::string::npos) << bogus.err;
    EXPECT_NE(bogus.err.find("did you mean --json?"), std::string::npos) << bogus.err;
  }
  std::regex read(R"re((?:Flag|Has)\("([a-z0-9-]+)"\))re");
  std::regex names(
      R"re((?:const std::string command = |RunPauseOrResume\(|Prepare\()"([a-z -]+)")re");
  size_t reads = 0, files_with_commands = 0;
  for (const auto& entry : std::filesystem::directory_iterator(STANDBY_SOURCE_DIR "/src/cli")) {
    std::ifstream in(entry.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::set<std::string> allowed;
    for (std::sregex_iterator it(text.begin(), text.end(), names), end; it != end; ++it) {
      auto own = options_of.find((*it)[1]);
      if (own == options_of.end()) continue;  // hidden commands (market-host, man-page)
      allowed.insert(own->second.begin(), own->second.end());
    }
    files_with_commands += !allowed.empty();
    const std::string file = entry.path().filename();
    if (file == "command.cc" || file == "provider_access.cc" || file == "remote.cc") {
      allowed = every_option;
    }
    for (std::sregex_iterator it(text.begin(), text.end(), read), end; it != end; ++it) {
      ++reads;
      EXPECT_TRUE(allowed.count((*it)[1]))
          << entry.path() << " reads --" << (*it)[1] << ", which its commands' tables lack";
    }
  }
  EXPECT_GT(reads, 50u);
  EXPECT_GT(files_with_commands, 20u);
}

// The output contract over every command (docs/manual.md, "Conventions"): a usage mistake
// exits 2 with one error line on stderr and, with --json, exactly one JSON document on
// stdout, {"error": {"code": "usage", "message", "retryable"}}.
TEST_F(CliHelpTest, EveryCommandKeepsTheOutputContractOnAUsageError) {
  const nlohmann::json table = Table();  // alive for the whole loop
  for (const auto& command : table["commands"]) {
    const std::string name = command["command"];
    for (const std::string& mistake :
         {std::string(" --json --no-such-option"), std::string(" --json --config")}) {
      ProcessRun run = Standby(name + mistake);
      EXPECT_EQ(run.exit_code, 2) << name << mistake << ": " << run.err;
      EXPECT_EQ(run.ErrorLines().size(), 1u) << name << mistake << ": " << run.err;
      nlohmann::json doc = nlohmann::json::parse(run.out, nullptr, /*allow_exceptions=*/false);
      ASSERT_TRUE(doc.is_object())
          << name << mistake << ": stdout is not one document: " << run.out;
      EXPECT_EQ(doc["error"]["code"], "usage") << name;
      EXPECT_FALSE(doc["error"]["message"].get<std::string>().empty()) << name;
      EXPECT_EQ(doc["error"]["retryable"], false) << name;
    }
  }
}

// A failure found at run time keeps it too, and a failed check carries its findings inside
// the error; results go to stdout, progress to stderr.
TEST_F(CliHelpTest, FailuresAreOneErrorDocumentAndResultsGoToStdout) {
  WriteFile(dir_.Sub("ws/a.txt"), "alpha");
  ProcessRun created = Standby("snapshot create --repo repo --instance i --workspace ws");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_NE(created.out.find("(full): 1 files"), std::string::npos) << created.out;
  EXPECT_EQ(created.err.find("(full): 1 files"), std::string::npos) << created.err;
  ProcessRun restored = Standby("restore --repo repo --instance i --to out");
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_NE(restored.out.find("\u2713 Restored 1 files"), std::string::npos) << restored.out;
  ProcessRun quiet = Standby("restore --repo repo --instance i --to out2 --json");
  ASSERT_EQ(quiet.exit_code, 0);
  EXPECT_TRUE(nlohmann::json::parse(quiet.out, nullptr, false).is_object()) << quiet.out;

  WriteFile(dir_.Sub("out/a.txt"), "alphx");
  ProcessRun verified = Standby("verify --repo repo --instance i --dir out --json");
  EXPECT_EQ(verified.exit_code, 1);
  nlohmann::json doc = nlohmann::json::parse(verified.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << verified.out;
  EXPECT_EQ(doc["error"]["code"], "corruption") << doc.dump();
  EXPECT_EQ(doc["error"]["details"]["validation"], "failed") << doc.dump();
  EXPECT_EQ(verified.ErrorLines().size(), 1u) << verified.err;

  ProcessRun missing = Standby("snapshot list --repo nowhere --json");
  EXPECT_EQ(missing.exit_code, 1);
  nlohmann::json error = nlohmann::json::parse(missing.out, nullptr, false);
  ASSERT_TRUE(error.is_object()) << missing.out;
  EXPECT_EQ(error["error"]["code"], "not_found") << error.dump();
  EXPECT_EQ(error["error"]["retryable"], false);
}

TEST_F(CliHelpTest, MistakesGetTheNearestCommandAndHelpOfNothingIsAUsageError) {
  ProcessRun sub = Standby("snapshot lst");
  EXPECT_EQ(sub.exit_code, 2);
  EXPECT_NE(sub.err.find("unknown snapshot subcommand 'lst'; one of create, list, verify, prune, "
                         "now — did you mean list?"),
            std::string::npos)
      << sub.err;
  ProcessRun command = Standby("restor --to x");
  EXPECT_EQ(command.exit_code, 2);
  EXPECT_NE(command.err.find("did you mean `standby restore`?"), std::string::npos);
  ProcessRun option = Standby("protect llm-1 --provison");
  EXPECT_EQ(option.exit_code, 2);
  EXPECT_NE(option.err.find("did you mean --provision?"), std::string::npos) << option.err;
  ProcessRun nothing = Standby("help nonsense");
  EXPECT_EQ(nothing.exit_code, 2);
  EXPECT_TRUE(nothing.out.empty());
  ProcessRun group = Standby("snapshot --help");
  EXPECT_EQ(group.exit_code, 0) << group.err;
  EXPECT_NE(group.out.find("snapshot create"), std::string::npos);
  ProcessRun one = Standby("help snapshot create");
  EXPECT_EQ(one.exit_code, 0);
  EXPECT_NE(one.out.find("--workspace DIR"), std::string::npos);
  EXPECT_NE(one.out.find("$STANDBY_COMPRESSION"), std::string::npos) << "its variable";
  EXPECT_NE(one.out.find("one of lz4, zstd, none"), std::string::npos);
  ProcessRun bare = Standby("");
  EXPECT_EQ(bare.exit_code, 2);
  EXPECT_NE(bare.err.find("usage: standby COMMAND"), std::string::npos);
}

TEST_F(CliHelpTest, VersionAndHelpSpeakJsonWhenAsked) {
  ProcessRun version = Standby("version --json");
  ASSERT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.json()["version"], "0.1.0");
  ProcessRun help = Standby("help protect --json");
  ASSERT_EQ(help.exit_code, 0);
  EXPECT_EQ(help.json()["command"], "protect");
  ProcessRun unknown = Standby("frobnicate --json");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.json()["error"]["code"], "usage");
}

// The bash script completes commands, subcommands, options and enumerated values.
TEST_F(CliHelpTest, BashCompletionCompletesCommandsOptionsAndValues) {
  ProcessRun script = Standby("completion bash");
  ASSERT_EQ(script.exit_code, 0) << script.err;
  WriteFile(dir_.Sub("standby.bash"), script.out);
  auto complete = [&](const std::string& words, int cword) {
    const std::string cmd = "bash -c 'source " + dir_.Sub("standby.bash") + "; COMP_WORDS=(" +
                            words + "); COMP_CWORD=" + std::to_string(cword) +
                            "; _standby_bash; echo \"${COMPREPLY[*]}\"' > " + dir_.Sub("reply") +
                            " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return std::string(TrimWhitespace(ReadFile(dir_.Sub("reply"))));
  };
  EXPECT_EQ(complete("standby pro", 1), "protect provision");
  EXPECT_EQ(complete("standby snapshot l", 2), "list");
  EXPECT_EQ(complete("standby protect x --drill-kind ''", 4), "planned kill");
  EXPECT_EQ(complete("standby metrics --by t", 3), "trigger");
  EXPECT_EQ(complete("standby serve --tls", 2), "--tls-cert --tls-key");
  EXPECT_EQ(complete("standby token r", 2), "rotate");
  EXPECT_EQ(complete("standby completion ''", 2), "bash zsh");
  EXPECT_EQ(complete("standby help dri", 2), "drill");
  ProcessRun zsh = Standby("completion zsh");
  EXPECT_EQ(zsh.exit_code, 0);
  EXPECT_EQ(zsh.out.rfind("#compdef standby\n", 0), 0u);
  EXPECT_EQ(Standby("completion fish").exit_code, 2);
}

// The build wrote standby.1 from the same table and docs/manual.md's prose.
TEST_F(CliHelpTest, TheManPageHasEveryCommandItsOptionsAndTheManualsProse) {
  const std::string page = ReadFile(BuiltBinary("standby.1"));
  ASSERT_EQ(page.rfind(".TH STANDBY 1", 0), 0u) << page.substr(0, 200);
  const nlohmann::json table = Table();  // alive for the whole loop
  for (const auto& command : table["commands"]) {
    const std::string name = command["command"];
    EXPECT_NE(page.find(".SS \"" + name), std::string::npos) << name;
  }
  EXPECT_NE(page.find(".B \\-\\-drill\\-kind"), std::string::npos);
  EXPECT_NE(page.find("at a safe point"), std::string::npos) << "serve's prose from the manual";
}

}  // namespace
}  // namespace standby
