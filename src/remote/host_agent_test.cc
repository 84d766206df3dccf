// HostAgent reads what a host answers as hostile input: a wrong type, an impossible value or
// a success that contradicts itself is kCorruption naming the field, never an exception.
#include "remote/host_agent.h"

#include <gtest/gtest.h>

#include "testing/test_util.h"

namespace standby {
namespace {

// A host that answers every job with `answer`.
class ForgingTransport : public AgentTransport {
 public:
  explicit ForgingTransport(nlohmann::json answer) : answer_(std::move(answer)) {}
  Result<nlohmann::json> RunJob(const AgentJob& job,
                                const std::function<void(const AgentEvent&)>&) override {
    last_job = job;
    return answer_;
  }
  AgentJob last_job;

 private:
  nlohmann::json answer_;
};

nlohmann::json GoodRestore() {
  return {{"snapshot_id", "s1"},   {"files_restored", 3}, {"files_expected", 3},
          {"bytes_restored", 100}, {"duration_ms", 5},    {"validation", "ok"}};
}

Error RestoreFails(const nlohmann::json& answer, const std::string& snapshot_id = "s1") {
  ForgingTransport host(answer);
  StoreAccess store{"/repo", {}};
  HostAgent agent(&host, &store);
  auto report = agent.Restore("gpu-1", snapshot_id, "/workspace");
  EXPECT_FALSE(report.has_value()) << answer.dump();
  return report ? Error{ErrorCode::kInternal, "no error", false} : report.error();
}

TEST(HostAgentTest, AnHonestRestoreParses) {
  ForgingTransport host(GoodRestore());
  StoreAccess store{"/repo", {}};
  HostAgent agent(&host, &store);
  ASSERT_OK_AND_ASSIGN(RestoreReport report, agent.Restore("gpu-1", "s1", "/workspace"));
  EXPECT_EQ(report.files_restored, 3);
  EXPECT_EQ(host.last_job.repo, "/repo");
}

TEST(HostAgentTest, WrongTypesAndImpossibleValuesNameTheField) {
  const std::vector<std::pair<std::string, nlohmann::json>> cases = {
      {"snapshot_id", 5},    {"files_restored", "3"}, {"files_restored", -1},
      {"duration_ms", 1e30}, {"validation", "maybe"}, {"validation", nullptr}};
  for (const auto& [field, value] : cases) {
    nlohmann::json answer = GoodRestore();
    answer[field] = value;
    Error e = RestoreFails(answer);
    EXPECT_EQ(e.code, ErrorCode::kCorruption) << field << " " << e.message;
    EXPECT_NE(e.message.find(field == "validation" && value.is_string() ? "maybe" : field),
              std::string::npos)
        << e.message;
  }
  EXPECT_EQ(RestoreFails(nlohmann::json::array({1, 2})).code, ErrorCode::kCorruption);
}

TEST(HostAgentTest, ASuccessThatContradictsItselfIsRefused) {
  nlohmann::json short_of_files = GoodRestore();
  short_of_files["files_restored"] = 1;  // "validation ok" with files missing
  EXPECT_NE(RestoreFails(short_of_files).message.find("1 of 3 files"), std::string::npos);
  // Another snapshot than the one asked for.
  EXPECT_NE(RestoreFails(GoodRestore(), "s2").message.find("not s2"), std::string::npos);
}

TEST(HostAgentTest, AForgedHealthAnswerIsRefused) {
  nlohmann::json health = {
      {"clock_unix_ms", 1}, {"uptime_s", 2.0}, {"gpus", {1}}, {"workload_alive", true}};
  ForgingTransport host(health);
  StoreAccess store{"/repo", {}};
  HostAgent agent(&host, &store);
  auto answer = agent.Health("gpu-1", "/workspace", {});
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, ErrorCode::kCorruption);
  EXPECT_NE(answer.error().message.find("gpus"), std::string::npos) << answer.error().message;
}

}  // namespace
}  // namespace standby
