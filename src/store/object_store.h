#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/time.h"

namespace standby {

struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  UnixNanos last_modified = 0;
};

struct ListPage {
  std::vector<ObjectInfo> objects;  // sorted by key (byte order)
  std::string next_token;           // empty when this is the last page
};

// A flat key → bytes store: a local directory, memory, or S3. Implementations are
// thread-safe and any number of calls may run at once.
//
// Keys are '/'-separated, non-empty, without a leading '/', empty segments, "." or "..",
// and without NUL; anything else is kInvalidArgument.
//
// Errors: kNotFound for a missing key on Get/Head; kUnavailable (retryable) for transient
// failures; kPermissionDenied for refused credentials; kResourceExhausted for a full disk or
// quota; kCorruption when the store returns data that fails its own checks.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Stores `data` under `key`, replacing any previous object. All-or-nothing: a reader sees
  // the old object or the whole new one, and a failed Put leaves the old object in place.
  virtual Status Put(const std::string& key, std::string_view data) = 0;
  // The whole object, or `range` of it. The range end is clipped to the object's size; a
  // range starting at or past the end, or of length 0, is kInvalidArgument.
  virtual Result<std::string> Get(const std::string& key,
                                  std::optional<ByteRange> range = std::nullopt) = 0;
  // `key` whole when it holds at most `limit` bytes, for objects someone we do not trust may
  // have written (locks, pointers, headers, manifests and indexes written through a host's
  // grants): what is transferred or held is bounded by the limit, not by the object. A larger
  // object is kResourceExhausted (ObjectTooLargeError); errors of Get otherwise. The default
  // asks for a range of limit + 1 bytes.
  virtual Result<std::string> GetBounded(const std::string& key, uint64_t limit);
  virtual Result<ObjectInfo> Head(const std::string& key) = 0;
  // Up to `max_keys` objects whose key starts with `prefix`, after `token` (from a previous
  // page; empty for the first page).
  virtual Result<ListPage> List(const std::string& prefix, const std::string& token,
                                size_t max_keys = 1000) = 0;
  // Removes `key`. Removing a missing key succeeds.
  virtual Status Delete(const std::string& key) = 0;

  // The store's location for messages ("file:///srv/repo", "s3://bucket/prefix"); never
  // contains credentials.
  virtual std::string Url() const = 0;
  // Whether the location itself exists (the directory, the bucket): kNotFound naming it when
  // it does not, so a mistyped location is not mistaken for an empty one. The default lists
  // one key.
  virtual Status CheckLocation();
  // Removes what writers that died mid-upload left behind, if older than `cutoff` (no live
  // writer takes that long): a local store's temporary files. The bytes freed; 0 for stores
  // that leave nothing (S3 keeps incomplete multipart uploads until a lifecycle rule ends
  // them).
  virtual Result<uint64_t> RemoveAbandonedUploads(UnixNanos /*cutoff*/) { return uint64_t{0}; }
  // How many requests at once make good use of this store.
  virtual size_t PreferredConcurrency() const { return 4; }
  // Requests sent and retried so far (remote stores; zero for local ones).
  struct Counters {
    uint64_t requests = 0;
    uint64_t retries = 0;
  };
  virtual Counters RequestCounters() const { return {}; }
};

Status ValidateObjectKey(std::string_view key);

// Every object under `prefix`, following pagination.
Result<std::vector<ObjectInfo>> ListAll(ObjectStore* store, const std::string& prefix);

// What GetBounded says of an object over its limit.
Error ObjectTooLargeError(const std::string& url, const std::string& key, uint64_t limit);

}  // namespace standby
