// The controller's side of the agent protocol against scripted agents: what it does with a
// wrong protocol, silence, garbage and an agent that ends early.
#include <gtest/gtest.h>

#include <deque>

#include "base/strings.h"
#include "remote/agent_channel.h"
#include "remote/local_transport.h"
#include "testing/test_util.h"

namespace standby {
namespace {

// An agent whose output is a script: each Read returns the next chunk (after sleeping the
// read's timeout on the clock when there is none), then end of file if `ends`.
class ScriptedChannel : public AgentChannel {
 public:
  ScriptedChannel(Clock* clock, std::deque<std::string> chunks, bool ends, std::string ending,
                  std::chrono::seconds gap = std::chrono::seconds(0))
      : clock_(clock),
        chunks_(std::move(chunks)),
        ends_(ends),
        ending_(std::move(ending)),
        gap_(gap) {}
  Status Write(std::string_view data) override {
    written += data;
    if (job_written_after_reads < 0) job_written_after_reads = reads;
    return OkStatus();
  }
  Status CloseStdin() override {
    stdin_closed = true;
    return OkStatus();
  }
  Result<ChannelOutput> Read(std::chrono::milliseconds timeout) override {
    ++reads;
    ChannelOutput out;
    if (!chunks_.empty()) {
      clock_->SleepFor(gap_);  // the agent takes this long to send its next line
      out.out = chunks_.front();
      chunks_.pop_front();
      return out;
    }
    if (ends_) {
      out.eof = true;
      return out;
    }
    clock_->SleepFor(timeout);
    return out;
  }
  std::string Ending() override { return ending_; }
  void Terminate() override { terminated = true; }

  std::string written;
  int reads = 0;
  int job_written_after_reads = -1;  // how many reads had happened when the job went out
  bool stdin_closed = false;
  bool terminated = false;

 private:
  Clock* clock_;
  std::deque<std::string> chunks_;
  bool ends_;
  std::string ending_;
  std::chrono::seconds gap_;
};

class AgentConversationTest : public ::testing::Test {
 protected:
  AgentConversationTest()
      : clock_(0, {.auto_advance = true, .quiet = std::chrono::microseconds(0)}) {
    job_.command = "restore";
    options_.clock = &clock_;
  }
  Result<nlohmann::json> Talk(ScriptedChannel& channel) {
    return RunAgentConversation(channel, job_, nullptr, options_);
  }
  FakeClock clock_;
  AgentJob job_;
  ConversationOptions options_;
};

const std::string kHello =
    "{\"type\":\"hello\",\"protocol\":" + std::to_string(kAgentProtocolVersion) + "}\n";

TEST_F(AgentConversationTest, TheJobGoesOutOnlyAfterTheHelloAndTheResultComesBack) {
  ScriptedChannel channel(
      &clock_,
      {"{\"type\":\"heartbeat\"}\n", kHello, "{\"type\":\"progress\",\"percent\":50}\n",
       "{\"type\":\"result\",\"ok\":true,\"data\":{\"x\":1}}\n"},
      true, "exited with status 0");
  auto result = Talk(channel);
  // A line before the hello is not the agent speaking: nothing is sent to it.
  ASSERT_FALSE(result.has_value());
  EXPECT_TRUE(channel.written.empty());

  ScriptedChannel agent(&clock_,
                        {kHello, "{\"type\":\"progress\",\"percent\":50}\n",
                         "{\"type\":\"result\",\"ok\":true,\"data\":{\"x\":1}}\n"},
                        true, "exited with status 0");
  ASSERT_OK_AND_ASSIGN(auto data, Talk(agent));
  EXPECT_EQ(data["x"], 1);
  EXPECT_EQ(agent.job_written_after_reads, 1) << "the job went out before the hello was read";
  EXPECT_NE(agent.written.find("\"command\":\"restore\""), std::string::npos);
}

TEST_F(AgentConversationTest, AnotherProtocolIsRefusedBeforeTheJobIsSent) {
  ScriptedChannel channel(&clock_, {"{\"type\":\"hello\",\"protocol\":1}\n"}, false, "");
  auto result = Talk(channel);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(result.error().message.find("speaks protocol 1"), std::string::npos);
  EXPECT_TRUE(channel.written.empty()) << "the job went to an agent we do not speak with";
  EXPECT_TRUE(channel.terminated);
}

// Hostile agents: each misbehaviour is a clear error, never an exception or unbounded memory.
TEST_F(AgentConversationTest, WronglyTypedFieldsAreErrorsNamingTheField) {
  struct Case {
    std::vector<std::string> lines;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"{\"type\":\"hello\",\"protocol\":\"2\"}\n"}, "\"protocol\""},
      {{"{\"type\":\"hello\",\"protocol\":[2]}\n"}, "\"protocol\""},
      {{kHello, "{\"type\":\"result\",\"ok\":\"yes\"}\n"}, "\"ok\""},
      {{kHello, "{\"type\":\"result\",\"ok\":true,\"data\":\"x\"}\n"}, "\"data\""},
      {{kHello, "{\"type\":\"result\",\"ok\":false,\"error\":{\"code\":5}}\n"}, "\"code\""},
      {{kHello, "{\"type\":\"authorize\",\"id\":\"1\",\"method\":\"GET\"}\n"}, "\"id\""},
      {{kHello, "{\"type\":\"authorize\",\"id\":1,\"method\":7,\"key\":\"k\",\"bucket\":false}\n"},
       "\"method\""},
      {{kHello, "[1,2,3]\n"}, "not an event"},
      // Nesting that nlohmann would build, then copy and destroy recursively.
      {{kHello, "{\"type\":\"result\",\"ok\":true,\"data\":{\"x\":" + std::string(300000, '[') +
                    std::string(300000, ']') + "}}\n"},
       "nested deeper than 64"},
      {{kHello, "{\"type\":5}\n"}, "not an event"},
  };
  for (const Case& c : cases) {
    std::deque<std::string> lines(c.lines.begin(), c.lines.end());
    ScriptedChannel channel(&clock_, lines, true, "exited with status 0");
    auto result = Talk(channel);
    ASSERT_FALSE(result.has_value()) << c.lines.back();
    EXPECT_NE(result.error().message.find(c.expected), std::string::npos)
        << c.lines.back() << " -> " << result.error().message;
  }
}

TEST_F(AgentConversationTest, AnEndlessLineIsCutAtOneMebibyte) {
  std::deque<std::string> chunks = {kHello};
  for (int i = 0; i < 64; ++i) chunks.push_back(std::string(64 * 1024, 'x'));
  ScriptedChannel channel(&clock_, chunks, false, "");
  auto result = Talk(channel);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kCorruption);
  EXPECT_NE(result.error().message.find("longer than 1 MiB"), std::string::npos);
  EXPECT_TRUE(channel.terminated);
  EXPECT_LE(channel.reads, 20) << "the controller kept reading past the cap";
}

// An agent that says hello, then writes 64 KiB to stderr on each of `floods` reads and dies:
// only a bounded tail is kept.
class StderrFloodChannel : public AgentChannel {
 public:
  explicit StderrFloodChannel(int floods) : floods_(floods) {}
  Status Write(std::string_view) override { return OkStatus(); }
  Status CloseStdin() override { return OkStatus(); }
  Result<ChannelOutput> Read(std::chrono::milliseconds) override {
    ChannelOutput out;
    if (reads_++ == 0) {
      out.out = kHelloLine;
      return out;
    }
    if (reads_ <= floods_) {
      out.err = std::string(64 * 1024, 'e') + "\x1b[2J last line\n";
      return out;
    }
    out.eof = true;
    return out;
  }
  std::string Ending() override { return "exited with status 3"; }
  void Terminate() override { terminated = true; }
  int reads() const { return reads_; }
  bool terminated = false;
  static inline const std::string kHelloLine =
      "{\"type\":\"hello\",\"protocol\":" + std::to_string(kAgentProtocolVersion) + "}\n";

 private:
  const int floods_;
  int reads_ = 0;
};

TEST_F(AgentConversationTest, AStderrFloodKeepsOnlyAnEscapedTail) {
  StderrFloodChannel channel(40);  // 2.6 MB: within a job's stderr budget
  auto result = RunAgentConversation(channel, job_, nullptr, options_);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_LE(result.error().message.size(), kAgentStderrTail + 200);
  EXPECT_NE(result.error().message.find("\\x1b[2J last line"), std::string::npos)
      << result.error().message.substr(0, 300);
  EXPECT_EQ(result.error().message.find('\x1b'), std::string::npos);
}

// Past kMaxAgentStderrPerJob the job ends at once: a host flooding stderr after its hello
// no longer keeps the controller reading (and buffering) for the life of the job.
TEST_F(AgentConversationTest, AStderrFloodPastTheJobsBudgetEndsTheJob) {
  StderrFloodChannel channel(100'000);
  auto result = RunAgentConversation(channel, job_, nullptr, options_);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kResourceExhausted) << result.error().message;
  EXPECT_TRUE(channel.terminated);
  EXPECT_LE(static_cast<size_t>(channel.reads()) * (64 << 10), kMaxAgentStderrPerJob + (256 << 10));
  EXPECT_NE(result.error().message.find("\\x1b[2J last line"), std::string::npos)
      << result.error().message.substr(0, 300);
  EXPECT_EQ(result.error().message.find('\x1b'), std::string::npos);
}

// Grant requests are bounded per job: past the rate one is refused (the agent hears why),
// past the total the job ends.
TEST_F(AgentConversationTest, AGrantRequestFloodIsRefusedThenEndsTheJob) {
  int64_t signed_ops = 0;
  options_.authorize = [&](const S3Operation&) -> Result<QueryParams> {
    ++signed_ops;
    return QueryParams{{"X-Amz-Signature", "sig"}};
  };
  const std::string ask =
      "{\"type\":\"authorize\",\"id\":1,\"method\":\"GET\",\"key\":\"config\","
      "\"bucket\":false}\n";
  std::string burst;
  for (int i = 0; i < kAuthorizeBurst + 100; ++i) burst += ask;  // all in one read
  ScriptedChannel rated(&clock_, {kHello, burst, "{\"type\":\"result\",\"ok\":true}\n"}, true,
                        "exited with status 0");
  ASSERT_OK(Talk(rated));
  EXPECT_LE(signed_ops, kAuthorizeBurst + 1);
  EXPECT_NE(rated.written.find("resource_exhausted"), std::string::npos);

  // Spread out in time (1 s between reads), the total still ends the job.
  signed_ops = 0;
  std::deque<std::string> chunks = {kHello};
  std::string per_second;
  for (int i = 0; i < kAuthorizePerSecond; ++i) per_second += ask;
  for (int64_t i = 0; i <= kMaxAuthorizePerJob / kAuthorizePerSecond; ++i) {
    chunks.push_back(per_second);
  }
  ScriptedChannel endless(&clock_, chunks, false, "", std::chrono::seconds(1));
  auto ended = Talk(endless);
  ASSERT_FALSE(ended.has_value());
  EXPECT_EQ(ended.error().code, ErrorCode::kResourceExhausted) << ended.error().message;
  EXPECT_TRUE(endless.terminated);
  EXPECT_LE(signed_ops, kMaxAuthorizePerJob);
}

TEST_F(AgentConversationTest, AShortJobSilentAfterHelloEndsAtItsDefaultDeadline) {
  job_.command = "health";
  std::deque<std::string> beats = {kHello};
  for (int i = 0; i < 100; ++i) beats.push_back("{\"type\":\"heartbeat\"}\n");
  ScriptedChannel channel(&clock_, beats, false, "", std::chrono::seconds(5));
  const int64_t start = clock_.MonotonicNanos();
  auto result = Talk(channel);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_GE(ElapsedMillis(&clock_, start), DefaultJobDeadline("health").count());
  // The hello itself comes after one 5 s gap; the deadline is checked between reads.
  EXPECT_LE(ElapsedMillis(&clock_, start), DefaultJobDeadline("health").count() + 11000);
}

TEST_F(AgentConversationTest, GrantRequestsAreAnsweredOrRefusedOnTheAgentsInput) {
  std::vector<S3Operation> asked;
  options_.authorize = [&](const S3Operation& op) -> Result<QueryParams> {
    asked.push_back(op);
    if (op.key == "packs/ab/forbidden") return PermissionDeniedError("not yours");
    return QueryParams{{"X-Amz-Signature", "sig-" + op.key}};
  };
  ScriptedChannel channel(
      &clock_,
      {kHello,
       "{\"type\":\"authorize\",\"id\":1,\"method\":\"PUT\",\"key\":\"packs/ab/ok\","
       "\"bucket\":false,\"query\":[]}\n",
       "{\"type\":\"authorize\",\"id\":2,\"method\":\"GET\",\"key\":\"packs/ab/forbidden\","
       "\"bucket\":false}\n",
       "{\"type\":\"result\",\"ok\":true,\"data\":{}}\n"},
      true, "exited with status 0");
  ASSERT_OK(Talk(channel));
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0].method, "PUT");
  EXPECT_EQ(asked[1].key, "packs/ab/forbidden");
  std::vector<std::string> lines = SplitString(channel.written, '\n');
  ASSERT_GE(lines.size(), 3u);
  auto first = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(first["id"], 1);
  EXPECT_EQ(first["query"][0][1], "sig-packs/ab/ok");
  auto second = nlohmann::json::parse(lines[2]);
  EXPECT_EQ(second["id"], 2);
  EXPECT_EQ(second["error"]["code"], "permission_denied");
  EXPECT_FALSE(second.contains("query"));
}

TEST_F(AgentConversationTest, SilenceEndsAtTheHelloTimeoutOnTheInjectedClock) {
  options_.hello_timeout = std::chrono::seconds(30);
  ScriptedChannel channel(&clock_, {}, false, "");
  const int64_t start = clock_.MonotonicNanos();
  auto result = Talk(channel);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_TRUE(channel.terminated);
  EXPECT_TRUE(channel.written.empty());
  int64_t waited = ElapsedMillis(&clock_, start);
  EXPECT_GE(waited, 30000);
  EXPECT_LE(waited, 30500);
}

TEST_F(AgentConversationTest, AnAgentSilentAfterItsHelloEndsAtTheJobTimeout) {
  options_.job_timeout = std::chrono::seconds(3);
  ScriptedChannel channel(&clock_, {kHello}, false, "");
  const int64_t start = clock_.MonotonicNanos();
  auto result = Talk(channel);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_TRUE(channel.terminated);
  EXPECT_LE(ElapsedMillis(&clock_, start), 3500);
}

TEST_F(AgentConversationTest, HeartbeatsKeepALongJobAliveAndSilenceEndsIt) {
  options_.idle_timeout = std::chrono::seconds(30);
  std::deque<std::string> beats = {kHello};
  for (int i = 0; i < 12; ++i) beats.push_back("{\"type\":\"heartbeat\"}\n");
  // A line every 5 s for a minute (twice the idle timeout), then silence.
  ScriptedChannel alive(&clock_, beats, false, "", std::chrono::seconds(5));
  const int64_t start = clock_.MonotonicNanos();
  auto result = Talk(alive);
  EXPECT_GE(ElapsedMillis(&clock_, start), 65 * 1000 + 30 * 1000);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_NE(result.error().message.find("sent nothing for 30 s"), std::string::npos)
      << result.error().message;
  EXPECT_TRUE(alive.terminated);
}

TEST_F(AgentConversationTest, AMalformedLineIsAnErrorNotASuccess) {
  ScriptedChannel channel(&clock_, {kHello, "this is not json\n"}, true, "exited with status 0");
  auto result = Talk(channel);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kCorruption);
  EXPECT_NE(result.error().message.find("not an event"), std::string::npos);
}

TEST_F(AgentConversationTest, AnAgentThatEndsBeforeItsResultFailsTheJob) {
  ScriptedChannel channel(&clock_, {kHello, "{\"type\":\"progress\",\"percent\":10}\n"}, true,
                          "was killed by signal 9");
  auto result = Talk(channel);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(result.error().message.find("killed by signal 9 before reporting a result"),
            std::string::npos);
}

TEST_F(AgentConversationTest, AnAgentThatNeverStartedSaysWhy) {
  ScriptedChannel channel(&clock_, {}, true, "exited with status 127");
  AgentDidNotStart why;
  auto result = RunAgentConversation(channel, job_, nullptr, options_, &why);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(why.ending, "exited with status 127");
}

TEST_F(AgentConversationTest, AFailedResultCarriesTheAgentsErrorAndData) {
  nlohmann::json found;
  options_.failure_data = &found;
  ScriptedChannel channel(
      &clock_,
      {kHello,
       "{\"type\":\"result\",\"ok\":false,\"error\":{\"code\":\"corruption\",\"message\":\"bad "
       "chunk\",\"retryable\":false},\"data\":{\"validation\":\"failed\"}}\n"},
      true, "exited with status 1");
  auto result = Talk(channel);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kCorruption);
  EXPECT_EQ(result.error().message, "agent: bad chunk");
  EXPECT_EQ(found["validation"], "failed");
}

// A real process that asks for grants but never reads the answers: the controller's write
// gives up after kAgentWriteTimeout instead of blocking for ever.
TEST(LocalTransportTest, AnAgentThatStopsReadingItsInputCannotBlockTheController) {
  TempDir dir;
  const std::string agent = dir.Sub("deaf-agent.sh");
  WriteFile(
      agent,
      "#!/bin/sh\necho '{\"type\":\"hello\",\"protocol\":" + std::to_string(kAgentProtocolVersion) +
          "}'\ni=0\nwhile [ $i -lt 20000 ]; do\n"
          "  echo '{\"type\":\"authorize\",\"id\":1,\"method\":\"GET\",\"key\":\"k\","
          "\"bucket\":false}'\n  i=$((i+1))\ndone\nexec sleep 120\n",
      0755);
  LocalTransport transport(agent, Clock::Real());
  AgentJob job;
  job.command = "snapshot";
  const int64_t start = Clock::Real()->MonotonicNanos();
  auto result = transport.RunJob(job, nullptr);
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.error().message.find("stopped reading its input"), std::string::npos)
      << result.error().message;
  EXPECT_LT(
      ElapsedMillis(Clock::Real(), start),
      std::chrono::duration_cast<std::chrono::milliseconds>(kAgentWriteTimeout).count() + 20000);
}

}  // namespace
}  // namespace standby
