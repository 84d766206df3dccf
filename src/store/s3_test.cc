// S3ObjectStore against a real S3 server (s3rver on loopback) and a misbehaving proxy.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/wait.h>

#include <sstream>

#include "base/log.h"
#include "base/strings.h"
#include "store/open_store.h"
#include "store/s3_object_store.h"
#include "store/xml.h"
#include "testing/s3rver.h"
#include "testing/test_util.h"

extern char** environ;

namespace standby {
namespace {

// A clock running `offset` ahead of the real one.
class OffsetClock : public Clock {
 public:
  explicit OffsetClock(std::chrono::seconds offset) : offset_(offset) {}
  UnixNanos Now() override {
    return Clock::Real()->Now() +
           std::chrono::duration_cast<std::chrono::nanoseconds>(offset_).count();
  }
  int64_t MonotonicNanos() override { return Clock::Real()->MonotonicNanos(); }
  void SleepFor(std::chrono::nanoseconds d) override { Clock::Real()->SleepFor(d); }

 private:
  std::chrono::seconds offset_;
};

// Fails the Nth request whose target contains `needle` at the transport level.
class FailingHttpClient : public HttpClient {
 public:
  FailingHttpClient(HttpClient* base, std::string needle, int nth)
      : base_(base), needle_(std::move(needle)), nth_(nth) {}
  Result<HttpResponse> Send(const HttpRequest& request) override {
    if (request.target.find(needle_) != std::string::npos && ++seen_ == nth_) {
      return PermissionDeniedError("injected refusal of " + request.target);
    }
    return base_->Send(request);
  }

 private:
  HttpClient* base_;
  std::string needle_;
  int nth_;
  std::atomic<int> seen_{0};
};

class Process {
 public:
  explicit Process(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawnp(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
  }
  ~Process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

 private:
  pid_t pid_ = -1;
};

class S3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = SharedS3rver();
    ASSERT_NE(server_, nullptr);
  }

  S3Options Options() {
    S3Options o;
    o.bucket = server_->bucket();
    o.prefix = "t-" + RandomHex(6) + "/";
    o.endpoint = server_->endpoint();
    o.credentials = {"S3RVER", "S3RVER", ""};
    o.base_backoff = std::chrono::milliseconds(10);
    return o;
  }
  std::unique_ptr<S3ObjectStore> Store(S3Options o, HttpClient* http = nullptr,
                                       Clock* clock = nullptr) {
    auto store = S3ObjectStore::Create(std::move(o), http ? http : http_.get(),
                                       clock ? clock : Clock::Real());
    EXPECT_TRUE(store.has_value()) << store.error().message;
    return std::move(*store);
  }
  // In-progress multipart uploads in the bucket.
  size_t PendingUploads(S3ObjectStore* store) {
    auto r = store->Send({"GET", "", true, {{"uploads", ""}}, {}, {}});
    EXPECT_TRUE(r.has_value());
    return XmlElements(r->body, "Upload").size();
  }

  S3rver* server_ = nullptr;
  std::unique_ptr<HttpClient> http_ = MakeHttpClient();
};

TEST_F(S3Test, S3_MultipartUploadRoundTrip) {
  S3Options o = Options();
  o.part_size = 5 << 20;
  o.multipart_threshold = 6 << 20;
  auto store = Store(o);
  std::string data = RandomBytes((13 << 20) + 12345, 3);
  ASSERT_OK(store->Put("big/object", data));
  EXPECT_EQ(store->stats().puts.load(), 3u);  // three parts
  ASSERT_OK_AND_ASSIGN(std::string back, store->Get("big/object"));
  EXPECT_EQ(back == data, true);
  ASSERT_OK_AND_ASSIGN(std::string middle, store->Get("big/object", ByteRange{7 << 20, 100}));
  EXPECT_EQ(middle, data.substr(7 << 20, 100));
  EXPECT_EQ(PendingUploads(store.get()), 0u);
}

TEST_F(S3Test, S3_InterruptedMultipartUploadLeavesNothing) {
  S3Options o = Options();
  o.part_size = 5 << 20;
  o.multipart_threshold = 6 << 20;
  FailingHttpClient failing(http_.get(), "partNumber=3", 1);
  auto store = Store(o, &failing);
  auto put = store->Put("big/object", RandomBytes(16 << 20, 4));
  ASSERT_FALSE(put.has_value());
  EXPECT_NE(put.error().message.find("injected refusal"), std::string::npos);
  EXPECT_EQ(store->Head("big/object").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(PendingUploads(store.get()), 0u);
}

TEST_F(S3Test, S3_ClockTwentyMinutesAheadIsCorrected) {
  OffsetClock ahead(std::chrono::minutes(20));
  std::ostringstream log;
  auto old_logger = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  auto store = Store(Options(), nullptr, &ahead);
  auto put = store->Put("skewed", "data");
  auto got = store->Get("skewed");
  spdlog::set_default_logger(old_logger);
  ASSERT_OK(put);
  ASSERT_OK(got);
  EXPECT_EQ(*got, "data");
  EXPECT_NEAR(static_cast<double>(store->clock_offset_seconds()), -1200.0, 5.0);
  EXPECT_NE(log.str().find("Clock skew: local clock is 1"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("s ahead of the object store; signing with corrected time"),
            std::string::npos);
}

// A store without credentials works from grants; an expired grant is refused by the server
// and asked for again once. (s3rver checks a grant's validity but not its V4 signature: that a
// grant is bound to its method, object and query is pinned by sigv4_test's AWS vectors.)
TEST_F(S3Test, S3_ExpiredGrantIsRenewedOnceThenTheRequestSucceeds) {
  S3Options o = Options();
  auto signer = Store(o);
  ASSERT_OK(signer->Put("mine", "granted"));
  OffsetClock past(std::chrono::minutes(-30));
  auto old_signer = Store(o, nullptr, &past);
  S3Options holder = o;
  holder.credentials = {};
  std::vector<bool> asked;
  holder.authorizer = [&](const S3Operation& op, bool renew) {
    asked.push_back(renew);
    return (renew ? signer.get() : old_signer.get())->Presign(op, std::chrono::seconds(60));
  };
  auto store = Store(holder);
  ASSERT_OK_AND_ASSIGN(std::string mine, store->Get("mine"));
  EXPECT_EQ(mine, "granted");
  EXPECT_EQ(asked, (std::vector<bool>{false, true}));

  holder.authorizer = [&](const S3Operation& op, bool) {
    return old_signer->Presign(op, std::chrono::seconds(60));
  };
  auto stale = Store(holder);
  auto refused = stale->Get("mine");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied) << refused.error().message;
}

TEST_F(S3Test, S3_MissingBucketAndUnreachableEndpointAreClear) {
  S3Options o = Options();
  o.bucket = "no-such-bucket";
  auto missing = Store(o)->Put("k", "v");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("bucket no-such-bucket does not exist"),
            std::string::npos);
  Status located = Store(o)->CheckLocation();  // what read commands ask before "no repository"
  ASSERT_FALSE(located.has_value());
  EXPECT_EQ(located.error().code, ErrorCode::kNotFound);
  EXPECT_NE(located.error().message.find("bucket no-such-bucket does not exist"),
            std::string::npos);
  EXPECT_TRUE(Store(Options())->CheckLocation().has_value());

  // https:// to a plain-HTTP server: the handshake fails the same way every time.
  S3Options tls = Options();
  tls.endpoint = "https://127.0.0.1:" + std::to_string(server_->port());
  auto handshake = Store(tls)->Get("k");
  ASSERT_FALSE(handshake.has_value());
  EXPECT_FALSE(handshake.error().retryable);
  EXPECT_NE(handshake.error().message.find("the endpoint speaks plain HTTP? use http://127.0.0.1:" +
                                           std::to_string(server_->port())),
            std::string::npos)
      << handshake.error().message;
  EXPECT_EQ(handshake.error().message.find("attempts"), std::string::npos)
      << handshake.error().message;

  S3Options dead = Options();
  dead.endpoint = "http://127.0.0.1:" + std::to_string(FreeLoopbackPort());
  dead.base_backoff = std::chrono::milliseconds(1000);  // 0.5–1 s, 1–2 s, 2–4 s, ...
  auto refused = Store(dead)->Get("k");  // within 3 s of backoff, not 8 attempts / 2 min
  ASSERT_FALSE(refused.has_value());
  EXPECT_TRUE(refused.error().retryable);
  EXPECT_NE(refused.error().message.find("connect to"), std::string::npos);
  EXPECT_NE(refused.error().message.find("connection refused (gave up after "), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(refused.error().message.find("after 8 attempts"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("; is the store listening there? check --s3-endpoint"),
            std::string::npos)
      << refused.error().message;
}

// s3rver does not check signatures, so a proxy answers as a checking store (AWS, B2) would.
TEST_F(S3Test, S3_WrongSecretIsReportedAsSuch) {
  int port = FreeLoopbackPort();
  Process proxy({"node", SourceDir() + "/tests/tools/faulty_proxy.js", std::to_string(port),
                 std::to_string(server_->port()), "signature", "1"});
  ASSERT_TRUE(WaitForPort(port, 10000));
  S3Options o = Options();
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  o.credentials.secret_access_key = "not-the-secret";
  auto put = Store(o)->Put("k", "v");
  ASSERT_FALSE(put.has_value());
  EXPECT_EQ(put.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(put.error().message.find("check the secret key and the region"), std::string::npos)
      << put.error().message;
  EXPECT_EQ(put.error().message.find("not-the-secret"), std::string::npos);
  EXPECT_EQ(Redact(put.error().message).find("not-the-secret"), std::string::npos);
}

// A store (or a proxy) answering a range with fewer bytes than its Content-Range claims:
// an error, never short data handed to the restore.
TEST_F(S3Test, S3_AShortRangeAnswerIsAnError) {
  int port = FreeLoopbackPort();
  Process proxy({"node", SourceDir() + "/tests/tools/faulty_proxy.js", std::to_string(port),
                 std::to_string(server_->port()), "short206", "1"});
  ASSERT_TRUE(WaitForPort(port, 10000));
  S3Options o = Options();
  auto direct = Store(o);
  std::string data = RandomBytes(100'000, 3);
  ASSERT_OK(direct->Put("obj", data));
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  auto got = Store(o)->Get("obj", ByteRange{1000, 50'000});
  ASSERT_FALSE(got.has_value());
  EXPECT_NE(got.error().message.find("short or misplaced range"), std::string::npos)
      << got.error().message;
  ASSERT_OK_AND_ASSIGN(std::string whole, direct->Get("obj", ByteRange{1000, 50'000}));
  EXPECT_EQ(whole, data.substr(1000, 50'000));
  ASSERT_OK_AND_ASSIGN(std::string tail, direct->Get("obj", ByteRange{90'000, 50'000}));
  EXPECT_EQ(tail, data.substr(90'000));  // a range past the end is clipped, not short
}

TEST_F(S3Test, S3_PlainHttpOnlyToLoopback) {
  S3Options o = Options();
  o.endpoint = "http://s3.example.com";
  auto store = S3ObjectStore::Create(o, http_.get(), Clock::Real());
  ASSERT_FALSE(store.has_value());
  EXPECT_NE(store.error().message.find("refusing plain HTTP"), std::string::npos);
}

class FaultyProxyTest : public S3Test, public ::testing::WithParamInterface<const char*> {};

TEST_P(FaultyProxyTest, S3_EveryFifthRequestFailsYetTransfersComplete) {
  int port = FreeLoopbackPort();
  Process proxy({"node", SourceDir() + "/tests/tools/faulty_proxy.js", std::to_string(port),
                 std::to_string(server_->port()), GetParam(), "5"});
  ASSERT_TRUE(WaitForPort(port, 10000));
  S3Options o = Options();
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  auto store = Store(o);
  for (int i = 0; i < 12; ++i) {
    std::string data = RandomBytes(100'000 + i, 10 + i);
    ASSERT_OK(store->Put("obj/" + std::to_string(i), data));
    ASSERT_OK_AND_ASSIGN(std::string back, store->Get("obj/" + std::to_string(i)));
    ASSERT_EQ(back, data) << GetParam() << " object " << i;
  }
  ASSERT_OK_AND_ASSIGN(auto listed, ListAll(store.get(), "obj/"));
  EXPECT_EQ(listed.size(), 12u);
  EXPECT_GE(store->stats().retries.load(), 4u);
}

INSTANTIATE_TEST_SUITE_P(Modes, FaultyProxyTest, ::testing::Values("503", "drop", "truncate"));

// HTTPS with a private CA: the certificate and the host name are both verified.
TEST(S3TlsTest, S3_HttpsVerifiesCertificateAndHostName) {
  TempDir pki;
  ASSERT_TRUE(MakeTestPki(pki.path()));
  S3rver::Options server_options;
  server_options.tls_key = pki.Sub("server.key");
  server_options.tls_cert = pki.Sub("server.pem");
  auto server = S3rver::Start(server_options);
  ASSERT_TRUE(server.has_value()) << server.error().message;
  S3Options o;
  o.bucket = (*server)->bucket();
  o.endpoint = "https://localhost:" + std::to_string((*server)->port());
  o.credentials = {"S3RVER", "S3RVER", ""};
  o.max_attempts = 1;

  auto trusting = MakeHttpClient({.ca_file = pki.Sub("ca.pem")});
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Create(o, trusting.get(), Clock::Real()));
  ASSERT_OK(store->Put("over-tls", "secret weights"));
  ASSERT_OK_AND_ASSIGN(std::string back, store->Get("over-tls"));
  EXPECT_EQ(back, "secret weights");

  auto system_cas = MakeHttpClient();  // does not know the private CA
  ASSERT_OK_AND_ASSIGN(auto untrusted, S3ObjectStore::Create(o, system_cas.get(), Clock::Real()));
  auto refused = untrusted->Get("over-tls");
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("TLS handshake"), std::string::npos)
      << refused.error().message;

  S3Options by_ip = o;  // the certificate names localhost, not 127.0.0.1
  by_ip.endpoint = "https://127.0.0.1:" + std::to_string((*server)->port());
  ASSERT_OK_AND_ASSIGN(auto wrong_name,
                       S3ObjectStore::Create(by_ip, trusting.get(), Clock::Real()));
  auto mismatch = wrong_name->Get("over-tls");
  ASSERT_FALSE(mismatch.has_value());
  EXPECT_NE(mismatch.error().message.find("TLS handshake"), std::string::npos);
}

TEST(S3ConfigTest, ParsesUrlsAndEndpoints) {
  S3Options o;
  ASSERT_OK(ParseS3Url("s3://bucket/some/prefix", &o));
  EXPECT_EQ(o.bucket, "bucket");
  EXPECT_EQ(o.prefix, "some/prefix/");
  ASSERT_OK(ParseS3Url("s3://bucket", &o));
  EXPECT_EQ(o.prefix, "");
  EXPECT_FALSE(ParseS3Url("s3:///x", &o).has_value());
  ASSERT_OK_AND_ASSIGN(S3Endpoint aws, ParseS3Endpoint("", "eu-west-1"));
  EXPECT_EQ(aws.host, "s3.eu-west-1.amazonaws.com");
  EXPECT_TRUE(aws.tls);
  EXPECT_EQ(aws.port, 443);
  ASSERT_OK_AND_ASSIGN(S3Endpoint b2, ParseS3Endpoint("s3.eu-central-003.backblazeb2.com", "x"));
  EXPECT_EQ(b2.host, "s3.eu-central-003.backblazeb2.com");
  ASSERT_OK_AND_ASSIGN(S3Endpoint local, ParseS3Endpoint("http://127.0.0.1:9000", "x"));
  EXPECT_FALSE(local.tls);
  EXPECT_EQ(local.port, 9000);
  ASSERT_OK_AND_ASSIGN(S3Endpoint v6, ParseS3Endpoint("http://[::1]:9000/", "x"));
  EXPECT_EQ(v6.host, "::1");
  EXPECT_FALSE(ParseS3Endpoint("https://host:99999", "x").has_value());
}

}  // namespace
}  // namespace standby
