#pragma once

#include <map>
#include <mutex>
#include <string>

#include "env/clock.h"
#include "store/object_store.h"

namespace standby {

// An in-memory store for tests. Same contract as every other store; thread-safe.
class MemObjectStore : public ObjectStore {
 public:
  explicit MemObjectStore(Clock* clock) : clock_(clock) {}

  Status Put(const std::string& key, std::string_view data) override;
  Result<std::string> Get(const std::string& key,
                          std::optional<ByteRange> range = std::nullopt) override;
  Result<ObjectInfo> Head(const std::string& key) override;
  Result<ListPage> List(const std::string& prefix, const std::string& token,
                        size_t max_keys = 1000) override;
  Status Delete(const std::string& key) override;
  std::string Url() const override { return "mem://"; }

  // Test hook: direct access to a stored object (nullptr when absent). Not thread-safe
  // against concurrent writers.
  std::string* TEST_Object(const std::string& key);
  size_t TEST_ObjectCount();

 private:
  struct Object {
    std::string data;
    UnixNanos last_modified = 0;
  };
  Clock* clock_;
  std::mutex mu_;
  std::map<std::string, Object> objects_;
};

}  // namespace standby
