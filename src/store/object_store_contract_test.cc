// The ObjectStore contract, run against every implementation so none can drift.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "base/strings.h"
#include "store/fault_injecting_store.h"
#include "store/fs_object_store.h"
#include "store/mem_object_store.h"
#include "store/open_store.h"
#include "store/s3_object_store.h"
#include "testing/s3rver.h"
#include "testing/test_util.h"

namespace standby {
namespace {

struct FsFactory {
  TempDir dir;
  std::unique_ptr<ObjectStore> Make() { return std::move(*FsObjectStore::Create(dir.Sub("repo"))); }
};

struct MemFactory {
  std::unique_ptr<ObjectStore> Make() { return std::make_unique<MemObjectStore>(Clock::Real()); }
};

struct FaultInjectingFactory {
  MemObjectStore base{Clock::Real()};
  std::unique_ptr<ObjectStore> Make() { return std::make_unique<FaultInjectingStore>(&base); }
};

struct S3Factory {
  std::unique_ptr<HttpClient> http = MakeHttpClient();
  std::unique_ptr<ObjectStore> Make() {
    S3rver* server = SharedS3rver();
    if (server == nullptr) return nullptr;
    S3Options options;
    options.bucket = server->bucket();
    options.prefix = "contract-" + RandomHex(6) + "/";
    options.endpoint = server->endpoint();
    options.credentials = {"S3RVER", "S3RVER", ""};
    return std::move(*S3ObjectStore::Create(options, http.get(), Clock::Real()));
  }
};

// An S3 store holding no credentials: every request goes out with a URL presigned by a
// credentialed twin (what a rented host's agent does, docs/design.md "Threat model").
struct PresignedS3Factory {
  std::unique_ptr<HttpClient> http = MakeHttpClient();
  std::unique_ptr<S3ObjectStore> signer;
  std::unique_ptr<ObjectStore> Make() {
    S3rver* server = SharedS3rver();
    if (server == nullptr) return nullptr;
    S3Options options;
    options.bucket = server->bucket();
    options.prefix = "presigned-" + RandomHex(6) + "/";
    options.endpoint = server->endpoint();
    options.credentials = {"S3RVER", "S3RVER", ""};
    signer = std::move(*S3ObjectStore::Create(options, http.get(), Clock::Real()));
    options.credentials = {};
    options.authorizer = [this](const S3Operation& op, bool) {
      return signer->Presign(op, std::chrono::seconds(60));
    };
    return std::move(*S3ObjectStore::Create(options, http.get(), Clock::Real()));
  }
};

template <class Factory>
class ObjectStoreContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = factory_.Make();
    ASSERT_NE(store_, nullptr);
  }
  Factory factory_;
  std::unique_ptr<ObjectStore> store_;
};

TYPED_TEST_SUITE_P(ObjectStoreContractTest);

TYPED_TEST_P(ObjectStoreContractTest, PutThenGetReturnsTheSameBytes) {
  std::string data = RandomBytes(100'000, 1) + std::string("\0tail", 5);
  ASSERT_OK(this->store_->Put("packs/ab/abc", data));
  ASSERT_OK_AND_ASSIGN(std::string got, this->store_->Get("packs/ab/abc"));
  EXPECT_EQ(got, data);
  ASSERT_OK(this->store_->Put("empty", ""));
  ASSERT_OK_AND_ASSIGN(std::string empty, this->store_->Get("empty"));
  EXPECT_EQ(empty, "");
}

TYPED_TEST_P(ObjectStoreContractTest, PutReplacesWholly) {
  ASSERT_OK(this->store_->Put("k", std::string(1000, 'a')));
  ASSERT_OK(this->store_->Put("k", "short"));
  ASSERT_OK_AND_ASSIGN(std::string got, this->store_->Get("k"));
  EXPECT_EQ(got, "short");
}

TYPED_TEST_P(ObjectStoreContractTest, RangedGetsAreClippedAndChecked) {
  ASSERT_OK(this->store_->Put("k", "0123456789"));
  ASSERT_OK_AND_ASSIGN(std::string mid, this->store_->Get("k", ByteRange{2, 3}));
  EXPECT_EQ(mid, "234");
  ASSERT_OK_AND_ASSIGN(std::string tail, this->store_->Get("k", ByteRange{8, 100}));
  EXPECT_EQ(tail, "89");
  EXPECT_EQ(this->store_->Get("k", ByteRange{10, 1}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(this->store_->Get("k", ByteRange{0, 0}).error().code, ErrorCode::kInvalidArgument);
}

// GetBounded, on every store: an object within the limit whole (the empty one too), a
// larger one refused without reading it all, a missing one kNotFound.
TYPED_TEST_P(ObjectStoreContractTest, BoundedGetsReadAtMostTheirLimit) {
  ASSERT_OK(this->store_->Put("small", "0123456789"));
  ASSERT_OK(this->store_->Put("empty", ""));
  ASSERT_OK(this->store_->Put("big", std::string(1 << 20, 'b')));
  ASSERT_OK_AND_ASSIGN(std::string small, this->store_->GetBounded("small", 10));
  EXPECT_EQ(small, "0123456789");
  ASSERT_OK_AND_ASSIGN(std::string empty, this->store_->GetBounded("empty", 10));
  EXPECT_EQ(empty, "");
  auto big = this->store_->GetBounded("big", 64 << 10);
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code, ErrorCode::kResourceExhausted);
  EXPECT_NE(big.error().message.find("big is larger than 65536 bytes"), std::string::npos)
      << big.error().message;
  EXPECT_EQ(this->store_->GetBounded("nope", 10).error().code, ErrorCode::kNotFound);
}

TYPED_TEST_P(ObjectStoreContractTest, MissingKeysAreNotFound) {
  EXPECT_EQ(this->store_->Get("nope").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->store_->Head("nope").error().code, ErrorCode::kNotFound);
  EXPECT_OK(this->store_->Delete("nope"));
}

TYPED_TEST_P(ObjectStoreContractTest, HeadReportsSize) {
  ASSERT_OK(this->store_->Put("dir/k", "12345"));
  ASSERT_OK_AND_ASSIGN(ObjectInfo info, this->store_->Head("dir/k"));
  EXPECT_EQ(info.key, "dir/k");
  EXPECT_EQ(info.size, 5u);
  EXPECT_GT(info.last_modified, 0);
}

TYPED_TEST_P(ObjectStoreContractTest, DeleteRemoves) {
  ASSERT_OK(this->store_->Put("k", "v"));
  ASSERT_OK(this->store_->Delete("k"));
  EXPECT_EQ(this->store_->Get("k").error().code, ErrorCode::kNotFound);
}

TYPED_TEST_P(ObjectStoreContractTest, ListIsSortedPrefixFilteredAndPaginated) {
  std::set<std::string> keys;
  for (int i = 0; i < 25; ++i) {
    std::string key = "snapshots/i" + std::to_string(i % 3) + "/" + std::to_string(100 + i);
    keys.insert(key);
    ASSERT_OK(this->store_->Put(key, std::string(i, 'x')));
  }
  ASSERT_OK(this->store_->Put("snapshotsX", "not under the prefix"));
  ASSERT_OK(this->store_->Put("packs/00/p", "other"));
  std::vector<std::string> listed;
  std::string token;
  int pages = 0;
  do {
    ASSERT_OK_AND_ASSIGN(ListPage page, this->store_->List("snapshots/", token, 7));
    EXPECT_LE(page.objects.size(), 7u);
    for (const ObjectInfo& o : page.objects) listed.push_back(o.key);
    token = page.next_token;
    ASSERT_LT(++pages, 10);
  } while (!token.empty());
  EXPECT_EQ(pages, 4);
  EXPECT_EQ(listed, std::vector<std::string>(keys.begin(), keys.end()));
  ASSERT_OK_AND_ASSIGN(auto narrow, ListAll(this->store_.get(), "snapshots/i1/"));
  EXPECT_EQ(narrow.size(), 8u);
  ASSERT_OK_AND_ASSIGN(auto none, ListAll(this->store_.get(), "nothing/"));
  EXPECT_TRUE(none.empty());
}

TYPED_TEST_P(ObjectStoreContractTest, RejectsUnsafeKeys) {
  for (const char* key : {"", "/abs", "a//b", "a/../b", "..", "a/./b", "trailing/"}) {
    EXPECT_EQ(this->store_->Put(key, "x").error().code, ErrorCode::kInvalidArgument) << key;
    EXPECT_EQ(this->store_->Get(key).error().code, ErrorCode::kInvalidArgument) << key;
  }
}

TYPED_TEST_P(ObjectStoreContractTest, ConcurrentPutsOfOneKeyLeaveOneWholeValue) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        EXPECT_OK(this->store_->Put("race", std::string(4096, static_cast<char>('a' + t))));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_OK_AND_ASSIGN(std::string got, this->store_->Get("race"));
  ASSERT_EQ(got.size(), 4096u);
  EXPECT_EQ(got, std::string(4096, got[0]));
  ASSERT_OK_AND_ASSIGN(auto listed, ListAll(this->store_.get(), ""));
  EXPECT_EQ(listed.size(), 1u);  // no temporary objects visible
}

REGISTER_TYPED_TEST_SUITE_P(ObjectStoreContractTest, PutThenGetReturnsTheSameBytes,
                            PutReplacesWholly, RangedGetsAreClippedAndChecked,
                            BoundedGetsReadAtMostTheirLimit, MissingKeysAreNotFound,
                            HeadReportsSize, DeleteRemoves, ListIsSortedPrefixFilteredAndPaginated,
                            RejectsUnsafeKeys, ConcurrentPutsOfOneKeyLeaveOneWholeValue);
using LocalStores = ::testing::Types<FsFactory, MemFactory, FaultInjectingFactory>;
INSTANTIATE_TYPED_TEST_SUITE_P(Local, ObjectStoreContractTest, LocalStores);
// Against a real S3 server (s3rver on loopback), started by the test itself.
using S3Stores = ::testing::Types<S3Factory, PresignedS3Factory>;
INSTANTIATE_TYPED_TEST_SUITE_P(S3_, ObjectStoreContractTest, S3Stores);

TEST(FsObjectStoreTest, RequiresAnAbsoluteRoot) {
  EXPECT_EQ(FsObjectStore::Create("relative/dir").error().code, ErrorCode::kInvalidArgument);
}

TEST(OpenObjectStoreTest, UnderstandsPathsAndFileUrlsAndRejectsUnknownSchemes) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto by_path, OpenObjectStore(dir.Sub("a")));
  EXPECT_EQ(by_path->Url(), "file://" + dir.Sub("a"));
  ASSERT_OK_AND_ASSIGN(auto by_url, OpenObjectStore("file://" + dir.Sub("b")));
  EXPECT_EQ(by_url->Url(), "file://" + dir.Sub("b"));
  EXPECT_EQ(OpenObjectStore("ftp://x").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(OpenObjectStore("file://relative").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(OpenObjectStore("").error().code, ErrorCode::kInvalidArgument);
  StoreSettings settings;
  settings.clock = Clock::Real();
  auto no_credentials = OpenObjectStore("s3://bucket/prefix", settings);
  ASSERT_FALSE(no_credentials.has_value());
  EXPECT_NE(no_credentials.error().message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
  EXPECT_NE(no_credentials.error().message.find("B2_APPLICATION_KEY"), std::string::npos);
}

}  // namespace
}  // namespace standby
