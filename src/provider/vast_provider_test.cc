// The Vast.ai client: the JSON dialect, and whole races against the fake Vast API
// (tests/tools/fake_vast.js) whose running instances are a real sshd on loopback.
#include "provider/vast_provider.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "provision/agent_probe.h"
#include "provision/race.h"
#include "remote/ssh_identity.h"
#include "testing/child_process.h"
#include "testing/s3rver.h"
#include "testing/sshd.h"
#include "testing/test_util.h"

namespace standby {
namespace {

using nlohmann::json;

TEST(VastParseTest, TrimsStringsAndReadsBothSshEndpoints) {
  auto instances = ParseVastInstances(R"({"instances_found": 1, "instances": [{
      "id": 7835610, "machine_id": 30001, "actual_status": "running",
      "status_msg": "  success, running vastai/ssh \n", "label": "standby:c1:race:1",
      "gpu_name": " RTX 4090\n", "dph_total": 0.41, "start_date": 1700000000.5,
      "ssh_host": " ssh4.vast.ai \n", "ssh_port": 10882, "public_ipaddr": "\n142.214.185.187 ",
      "ports": {"22/tcp": [{"HostIp": "0.0.0.0", "HostPort": "20544"}],
                "8000/tcp": [{"HostIp": "0.0.0.0", "HostPort": "20545"}], "53/udp": []}}]})");
  ASSERT_OK(instances);
  ASSERT_EQ(instances->size(), 1u);
  const Instance& i = (*instances)[0];
  EXPECT_EQ(i.id, "7835610");
  EXPECT_EQ(i.machine_id, "30001");
  EXPECT_EQ(i.state, InstanceState::kRunning);
  EXPECT_EQ(i.gpu_name, "RTX 4090");
  EXPECT_EQ(i.status_message, "success, running vastai/ssh");
  ASSERT_EQ(i.ssh.size(), 2u);
  EXPECT_EQ(i.ssh[0].kind, "direct");
  EXPECT_EQ(i.ssh[0].host, "142.214.185.187");
  EXPECT_EQ(i.ssh[0].port, 20544);  // HostPort is a string
  EXPECT_EQ(i.ssh[1].host, "ssh4.vast.ai");
  EXPECT_EQ(i.ssh[1].port, 10882);
  EXPECT_EQ(i.created_unix_ms, 1700000000500);
  // The workload's port as the world reaches it (the controller probes it directly).
  ASSERT_EQ(i.exposed.count(8000), 1u);
  EXPECT_EQ(i.exposed.at(8000).host, "142.214.185.187");
  EXPECT_EQ(i.exposed.at(8000).port, 20545);
  EXPECT_EQ(i.exposed.count(53), 0u);
}

TEST(VastParseTest, NullInstancesAndStatesBeforeRunning) {
  ASSERT_OK_AND_ASSIGN(auto none,
                       ParseVastInstances(R"({"instances_found": 0, "instances": null})"));
  EXPECT_TRUE(none.empty());
  ASSERT_OK_AND_ASSIGN(auto single, ParseVastInstance(R"({"instances": null})"));
  EXPECT_FALSE(single.has_value());
  ASSERT_OK_AND_ASSIGN(auto states, ParseVastInstances(R"({"instances": [
      {"id": 1, "actual_status": null}, {"id": 2, "actual_status": "created"},
      {"id": 3, "actual_status": "loading"}, {"id": 4, "actual_status": "exited"},
      {"id": 5, "actual_status": "offline"}, {"id": 6, "actual_status": "unknown"}]})"));
  ASSERT_EQ(states.size(), 6u);
  EXPECT_EQ(states[0].state, InstanceState::kLoading);
  EXPECT_EQ(states[1].state, InstanceState::kLoading);
  EXPECT_EQ(states[2].state, InstanceState::kLoading);
  EXPECT_EQ(states[3].state, InstanceState::kExited);
  EXPECT_EQ(states[4].state, InstanceState::kOffline);
  EXPECT_EQ(states[5].state, InstanceState::kUnknown);
  EXPECT_TRUE(states[2].ssh.empty());
  EXPECT_FALSE(ParseVastInstances("<html>").has_value());
}

// A 200 that does not say what is listed is not "nothing is listed": read that way, a
// proxy's error page would confirm a fence and drop an ownership row.
TEST(VastParseTest, AnAnswerWithoutTheInstancesFieldIsAnErrorNotAnEmptyList) {
  for (const char* body : {"{}", R"({"success": true})", "[]", R"({"error": "busy"})"}) {
    auto listed = ParseVastInstances(body);
    ASSERT_FALSE(listed.has_value()) << body;
    EXPECT_EQ(listed.error().code, ErrorCode::kUnavailable) << body;
    EXPECT_NE(listed.error().message.find("no \"instances\" field"), std::string::npos);
    EXPECT_FALSE(ParseVastInstance(body).has_value()) << body;
  }
}

TEST(VastParseTest, OffersWithStringNumbersAndNulls) {
  ASSERT_OK_AND_ASSIGN(auto offers, ParseVastOffers(R"({"offers": [
      {"id": 4000001, "machine_id": 30001, "gpu_name": " RTX 4090 ", "num_gpus": 1,
       "gpu_ram": 24564, "dph_total": "0.35", "reliability": null, "reliability2": 0.97,
       "inet_down": 880.5, "geolocation": "Oregon, US", "cpu_cores": null}]})"));
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].offer_id, "4000001");
  EXPECT_EQ(offers[0].gpu_name, "RTX 4090");
  EXPECT_DOUBLE_EQ(offers[0].price_per_hour, 0.35);
  EXPECT_DOUBLE_EQ(offers[0].reliability, 0.97);
  EXPECT_NEAR(offers[0].gpu_ram_gb, 24.564, 1e-9);
}

constexpr char kApiKey[] = "vast-test-key-0b1c2d3e4f";

class FakeVastTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(identity_, EnsureControllerKey(FileSystem::Real(), dir_.Sub("state")));
    ASSERT_OK_AND_ASSIGN(sshd_, SshdHost::Start(identity_.public_key));
    port_ = FreeLoopbackPort();
    ASSERT_OK_AND_ASSIGN(
        pid_, SpawnChild({"node", SourceDir() + "/tests/tools/fake_vast.js", std::to_string(port_),
                          kApiKey, std::to_string(sshd_->port())},
                         dir_.Sub("fake_vast.log")));
    ASSERT_TRUE(WaitForPort(port_, 10000));
    http_ = MakeHttpClient();
  }
  void TearDown() override { StopChild(pid_); }

  json Control(const json& scenario = nullptr) {
    HttpRequest request;
    request.tls = false;
    request.host = "127.0.0.1";
    request.port = static_cast<uint16_t>(port_);
    request.method = scenario.is_null() ? "GET" : "POST";
    request.target = "/_control";
    std::string body = scenario.is_null() ? "" : scenario.dump();
    request.body = body;
    auto response = http_->Send(request);
    EXPECT_TRUE(response.has_value());
    return response ? json::parse(response->body) : json();
  }

  std::unique_ptr<VastProvider> Vast(const std::string& key = kApiKey) {
    VastOptions options;
    options.api_key = key;
    options.base_url = "http://127.0.0.1:" + std::to_string(port_);
    options.timeout = std::chrono::seconds(5);
    auto vast = VastProvider::Create(options, http_.get(), Clock::Real());
    EXPECT_TRUE(vast.has_value());
    return vast ? std::move(*vast) : nullptr;
  }

  RaceResult Race(VastProvider* vast) {
    std::string agent = BuiltBinary("standby-agent");
    probe_user_ = sshd_->target().substr(0, sshd_->target().find('@'));
    SshSettings ssh;
    ssh.private_key_path = identity_.private_key_path;
    ssh.state_dir = dir_.Sub("state");
    ssh.agent_path = agent;
    ssh.connect_timeout = std::chrono::seconds(5);
    ssh.clock = Clock::Real();
    SshTransportFactory transports(ssh);
    AgentHealthProbe real_probe(&transports, probe_user_);
    RaceOptions options;
    options.poll_interval = std::chrono::milliseconds(250);
    options.hedge_after_s = 2;
    options.round_timeout_s = 15;
    LaunchSpec spec;
    spec.label = "standby:test:race-" + std::to_string(++races_);
    auto result =
        RunRace(vast, &real_probe, &model_, &blacklist_, Clock::Real(), filter_, spec, options);
    EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().message);
    return result ? std::move(*result) : RaceResult{};
  }

  TempDir dir_;
  SshIdentity identity_;
  std::unique_ptr<SshdHost> sshd_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::unique_ptr<HttpClient> http_;
  KaplanMeierModel model_;
  Blacklist blacklist_;
  OfferFilter filter_;
  std::string probe_user_;
  int races_ = 0;
};

TEST_F(FakeVastTest, SearchCreateListDestroy) {
  auto vast = Vast();
  OfferFilter filter;
  filter.gpu_names = {"RTX 4090"};
  filter.max_price_per_hour = 0.34;
  filter.region = "US";
  ASSERT_OK_AND_ASSIGN(auto offers, vast->SearchOffers(filter));
  ASSERT_FALSE(offers.empty());
  for (const Offer& o : offers) {
    EXPECT_EQ(o.gpu_name, "RTX 4090");  // padded by the fake, trimmed here
    EXPECT_LE(o.price_per_hour, 0.34);
  }
  LaunchSpec spec;
  spec.label = "standby:test:manual";
  ASSERT_OK_AND_ASSIGN(Instance created, vast->Create(offers[0], spec));
  EXPECT_EQ(created.state, InstanceState::kLoading);
  ASSERT_OK_AND_ASSIGN(auto mine, vast->List("standby:test:"));
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].id, created.id);
  ASSERT_OK_AND_ASSIGN(auto others, vast->List("someone-else"));
  EXPECT_TRUE(others.empty());
  // The same offer again is stale.
  auto again = vast->Create(offers[0], spec);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
  EXPECT_OK(vast->Destroy(created.id));
  EXPECT_OK(vast->Destroy(created.id));  // 404: already gone is success
  auto gone = vast->Get(created.id);
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto none, vast->List(""));  // `instances: null`
  EXPECT_TRUE(none.empty());
  EXPECT_OK(vast->EnsureSshKey(identity_.public_key));
  EXPECT_OK(vast->EnsureSshKey(identity_.public_key));
}

TEST_F(FakeVastTest, AWrongKeyIsRefusedInOneLine) {
  auto vast = Vast("wrong-key-123456");
  auto offers = vast->SearchOffers({});
  ASSERT_FALSE(offers.has_value());
  EXPECT_EQ(offers.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(offers.error().message.find("VAST_API_KEY"), std::string::npos);
  EXPECT_EQ(offers.error().message.find("wrong-key-123456"), std::string::npos);
}

TEST_F(FakeVastTest, ThreeRacesInARowSeeAtMostTwo429sEach) {
  // Create may be called every 0.5 s and the list every 0.15 s: the race's two initial
  // creates are 0.2 s apart, so the second meets a 429 and the shared limiter backs off.
  Control({{"boot_ms", 400}, {"thresholds_ms", {{"PUT asks", 500}, {"GET instances", 150}}}});
  for (int race = 0; race < 3; ++race) {
    auto vast = Vast();  // a new client each time: the limiter is the account's
    RaceResult r = Race(vast.get());
    ASSERT_TRUE(r.winner.has_value()) << "race " << race;
    EXPECT_LE(r.rate_limit_hits, 2) << "race " << race;
    json state = Control();
    ASSERT_EQ(state["live"].size(), 1u) << state.dump();  // only the winner
    EXPECT_EQ(state["live"][0].get<std::string>(), r.winner->id);
    EXPECT_OK(vast->Destroy(r.winner->id));
  }
  EXPECT_GE(Control()["rate_limited"].get<int>(), 1);  // the fake did rate-limit
}

TEST_F(FakeVastTest, StaleStuckAndExitedCandidatesAreSkipped) {
  auto vast = Vast();
  ASSERT_OK_AND_ASSIGN(auto offers, vast->SearchOffers({}));
  RankOffers(&offers);
  ASSERT_GE(offers.size(), 4u);
  Control({{"stale", {offers[0].offer_id}},
           {"boot",
            {{offers[1].machine_id, "never"},
             {offers[2].machine_id, {{"exit_ms", 300}}},
             {offers[3].machine_id, 500}}}});
  RaceResult r = Race(vast.get());
  ASSERT_TRUE(r.winner.has_value());
  std::map<std::string, std::string> outcome;
  for (const auto& c : r.candidates) outcome[c.machine_id] = RaceOutcomeName(c.outcome);
  EXPECT_EQ(outcome[offers[0].machine_id], "stale_offer");
  EXPECT_EQ(outcome[offers[2].machine_id], "exited");
  EXPECT_EQ(r.winner->machine_id, offers[3].machine_id);
  EXPECT_EQ(outcome[offers[1].machine_id], "lost");  // still loading when offers[3] won
  EXPECT_EQ(Control()["live"].size(), 1u);
  EXPECT_OK(vast->Destroy(r.winner->id));
}

TEST_F(FakeVastTest, ACreateWhoseResponseWasLostIsFoundAndDestroyed) {
  Control({{"boot_ms", 400}, {"drop_next_create", true}});
  auto vast = Vast();
  RaceResult r = Race(vast.get());
  ASSERT_TRUE(r.winner.has_value());
  json state = Control();
  EXPECT_EQ(state["created"].get<int>(), static_cast<int>(state["destroyed"].get<int>()) + 1);
  ASSERT_EQ(state["live"].size(), 1u) << state.dump();
  bool reaped = false;
  for (const auto& c : r.candidates) reaped = reaped || c.outcome == RaceOutcome::kOrphanReaped;
  EXPECT_TRUE(reaped);
  EXPECT_OK(vast->Destroy(r.winner->id));
}

}  // namespace
}  // namespace standby
