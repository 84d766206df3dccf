#include "store/fault_injecting_store.h"

#include <thread>

namespace standby {

void FaultInjectingStore::FailCall(StoreOp op, int nth, Error error, bool sticky) {
  std::lock_guard<std::mutex> lock(mu_);
  Plan& plan = plans_[static_cast<size_t>(op)];
  plan.fail_at = plan.calls + nth;
  plan.sticky = sticky;
  plan.error = std::move(error);
}

void FaultInjectingStore::Heal() {
  std::lock_guard<std::mutex> lock(mu_);
  for (Plan& p : plans_) p = Plan{p.calls};
}

void FaultInjectingStore::CorruptGets(std::string key_substring) {
  std::lock_guard<std::mutex> lock(mu_);
  corrupt_substring_ = std::move(key_substring);
}

void FaultInjectingStore::SetLatency(std::chrono::milliseconds latency) {
  std::lock_guard<std::mutex> lock(mu_);
  latency_ = latency;
}

int FaultInjectingStore::CallCount(StoreOp op) {
  std::lock_guard<std::mutex> lock(mu_);
  return plans_[static_cast<size_t>(op)].calls;
}

std::optional<Error> FaultInjectingStore::Enter(StoreOp op) {
  std::chrono::milliseconds latency;
  std::optional<Error> injected;
  {
    std::lock_guard<std::mutex> lock(mu_);
    latency = latency_;
    Plan& plan = plans_[static_cast<size_t>(op)];
    ++plan.calls;
    if (plan.fail_at > 0 &&
        (plan.calls == plan.fail_at || (plan.sticky && plan.calls > plan.fail_at))) {
      injected = plan.error;
    }
  }
  if (latency.count() > 0) std::this_thread::sleep_for(latency);
  return injected;
}

Status FaultInjectingStore::Put(const std::string& key, std::string_view data) {
  if (auto error = Enter(StoreOp::kPut)) return *error;
  return base_->Put(key, data);
}

Result<std::string> FaultInjectingStore::Get(const std::string& key,
                                             std::optional<ByteRange> range) {
  if (auto error = Enter(StoreOp::kGet)) return *error;
  ASSIGN_OR_RETURN(std::string data, base_->Get(key, range));
  std::lock_guard<std::mutex> lock(mu_);
  if (!corrupt_substring_.empty() && key.find(corrupt_substring_) != std::string::npos &&
      !data.empty()) {
    data[data.size() / 2] = static_cast<char>(data[data.size() / 2] ^ 0x01);
  }
  return data;
}

Result<ObjectInfo> FaultInjectingStore::Head(const std::string& key) {
  if (auto error = Enter(StoreOp::kHead)) return *error;
  return base_->Head(key);
}

Result<ListPage> FaultInjectingStore::List(const std::string& prefix, const std::string& token,
                                           size_t max_keys) {
  if (auto error = Enter(StoreOp::kList)) return *error;
  return base_->List(prefix, token, max_keys);
}

Status FaultInjectingStore::Delete(const std::string& key) {
  if (auto error = Enter(StoreOp::kDelete)) return *error;
  return base_->Delete(key);
}

}  // namespace standby
