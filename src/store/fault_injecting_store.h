#pragma once

#include <array>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "store/object_store.h"

namespace standby {

enum class StoreOp { kPut, kGet, kHead, kList, kDelete };

// Wraps a store (not owned) and injects faults for tests: fail the Nth call of an operation
// (once, or that call and every later one), flip a byte in objects read whose key contains
// a substring, and add latency to every call. Thread-safe.
class FaultInjectingStore : public ObjectStore {
 public:
  explicit FaultInjectingStore(ObjectStore* base) : base_(base) {}

  // Fails the `nth` (1-based) call of `op` counted from now with `error`; with `sticky`, every
  // later call of `op` fails too.
  void FailCall(StoreOp op, int nth, Error error, bool sticky = false);
  void CorruptGets(std::string key_substring);
  // Every planned fault is forgotten (an outage ends).
  void Heal();
  void SetLatency(std::chrono::milliseconds latency);
  int CallCount(StoreOp op);

  Status Put(const std::string& key, std::string_view data) override;
  Result<std::string> Get(const std::string& key,
                          std::optional<ByteRange> range = std::nullopt) override;
  Result<ObjectInfo> Head(const std::string& key) override;
  Result<ListPage> List(const std::string& prefix, const std::string& token,
                        size_t max_keys = 1000) override;
  Status Delete(const std::string& key) override;
  std::string Url() const override { return base_->Url(); }
  size_t PreferredConcurrency() const override { return base_->PreferredConcurrency(); }

 private:
  struct Plan {
    int calls = 0;
    int fail_at = 0;  // 0: no fault planned
    bool sticky = false;
    std::optional<Error> error;
  };
  // Counts the call and returns the error to inject, if any.
  std::optional<Error> Enter(StoreOp op);

  ObjectStore* base_;
  std::mutex mu_;
  std::array<Plan, 5> plans_;
  std::string corrupt_substring_;
  std::chrono::milliseconds latency_{0};
};

}  // namespace standby
