#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "env/clock.h"
#include "env/http_client.h"
#include "store/object_store.h"
#include "store/s3_operation.h"
#include "store/sigv4.h"

namespace standby {

// The largest response body accepted: packs are at most 1 GiB (pack_size_mb ≤ 1024).
inline constexpr uint64_t kMaxObjectBody = (1ULL << 30) + (16ULL << 20);

struct S3Endpoint {
  bool tls = true;
  std::string host;
  uint16_t port = 443;
};

struct S3Options {
  std::string bucket;
  std::string prefix;    // "" or ending in '/'
  std::string endpoint;  // "host[:port]" or "http(s)://host[:port]"; empty = AWS for region
  std::string region = "us-east-1";
  std::optional<bool> path_style;  // unset: path style for IP-address and localhost endpoints
  S3Credentials credentials;
  // Instead of credentials: every request is sent with the query this returns (a presigned
  // URL obtained from whoever holds the credentials).
  S3Authorizer authorizer;
  size_t concurrency = 16;                          // parallel requests of one large transfer
  uint64_t multipart_threshold = 64ULL << 20;       // Put larger than this goes multipart
  uint64_t part_size = 16ULL << 20;                 // ≥ 5 MiB (S3), ≥ 5,000,000 B (B2)
  int max_attempts = 8;                             // per request, retries included
  std::chrono::milliseconds retry_budget{120'000};  // total backoff of one request
  std::chrono::milliseconds request_timeout{60'000};
  std::chrono::milliseconds list_timeout{30'000};
  std::chrono::milliseconds base_backoff{200};
};

// The host name requests go to (bucket.endpoint in virtual-hosted style), for resolving it
// on behalf of a process that does not resolve names itself.
Result<std::string> S3ConnectHost(const S3Options& options);

// Parses "s3://bucket/prefix" into options.bucket and options.prefix.
Status ParseS3Url(const std::string& url, S3Options* options);
Result<S3Endpoint> ParseS3Endpoint(const std::string& endpoint, const std::string& region);

struct S3Stats {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> puts{0};
  std::atomic<uint64_t> gets{0};
};

// The ObjectStore contract over S3's REST API (AWS, Backblaze B2, R2, MinIO...): AWS
// Signature V4 signed in our code; path-style or virtual-hosted addressing; multipart
// uploads with parallel parts (aborted on failure, so no orphaned parts are billed);
// ranged GETs (restores fetch packs as many parallel ranges); retries with exponential backoff and
// full jitter for 5xx, SlowDown, 429, timeouts and resets; and clock-skew correction: when the
// store reports RequestTimeTooSkewed or its Date header is more than 5 s off, requests are
// re-signed with the store's time. Thread-safe. `http` and `clock` are not owned.
class S3ObjectStore : public ObjectStore {
 public:
  static Result<std::unique_ptr<S3ObjectStore>> Create(S3Options options, HttpClient* http,
                                                       Clock* clock);

  Status Put(const std::string& key, std::string_view data) override;
  Result<std::string> Get(const std::string& key,
                          std::optional<ByteRange> range = std::nullopt) override;
  // One whole-object GET whose body the client stops reading past max(limit, 64 KiB: room
  // for an error document); a ranged GET of an empty object is answered differently by
  // different stores.
  Result<std::string> GetBounded(const std::string& key, uint64_t limit) override;
  Result<ObjectInfo> Head(const std::string& key) override;
  Result<ListPage> List(const std::string& prefix, const std::string& token,
                        size_t max_keys = 1000) override;
  Status Delete(const std::string& key) override;
  std::string Url() const override;
  size_t PreferredConcurrency() const override { return options_.concurrency; }
  Counters RequestCounters() const override {
    return {stats_.requests.load(), stats_.retries.load()};
  }

  // The presigned query parameters for `op`, valid for `expires`, signed with this store's
  // credentials at its clock-skew-corrected time. kPermissionDenied without credentials.
  Result<QueryParams> Presign(const S3Operation& op, std::chrono::seconds expires) const;
  // The store's prefix ("" or ending in '/'): list queries name keys with it.
  const std::string& prefix() const { return options_.prefix; }

  const S3Stats& stats() const { return stats_; }
  // Makes the store own its HTTP client (for stores built by OpenObjectStore).
  void AdoptHttpClient(std::unique_ptr<HttpClient> http) { owned_http_ = std::move(http); }
  // Seconds to add to the local clock when signing (store time − local time).
  int64_t clock_offset_seconds() const { return offset_seconds_.load(); }

  struct Call {
    std::string method;
    std::string key;  // object key under the prefix; empty for bucket-level calls
    bool bucket_level = false;
    std::vector<std::pair<std::string, std::string>> query;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string_view body;
    std::chrono::milliseconds timeout{0};  // 0: options.request_timeout
    uint64_t max_body = kMaxObjectBody;    // a longer response is kResourceExhausted
  };
  // Signs and sends with retries; returns any non-retryable response (callers map statuses).
  Result<HttpResponse> Send(const Call& call);

 private:
  // Get, reading at most `max_body` bytes of the response (kResourceExhausted past it).
  Result<std::string> GetWithin(const std::string& key, std::optional<ByteRange> range,
                                uint64_t max_body);
  static constexpr uint64_t kErrorDocumentRoom = 64 << 10;
  S3ObjectStore(S3Options options, S3Endpoint endpoint, HttpClient* http, Clock* clock)
      : options_(std::move(options)), endpoint_(std::move(endpoint)), http_(http), clock_(clock) {}
  Status PutMultipart(const std::string& key, std::string_view data);
  void ObserveServerDate(const HttpResponse& response, UnixNanos local_now);
  Error MapError(const HttpResponse& response, const std::string& what) const;
  SignableRequest Signable(const S3Operation& op) const;
  // The name requests go to: bucket.endpoint, or the endpoint in path style.
  std::string ConnectHost() const;

  std::unique_ptr<HttpClient> owned_http_;
  S3Options options_;
  S3Endpoint endpoint_;
  HttpClient* http_;
  Clock* clock_;
  std::atomic<int64_t> offset_seconds_{0};
  std::atomic<bool> skew_logged_{false};
  mutable S3Stats stats_;
};

}  // namespace standby
