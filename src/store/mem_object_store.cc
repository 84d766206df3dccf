#include "store/mem_object_store.h"

#include <algorithm>

namespace standby {

Status MemObjectStore::Put(const std::string& key, std::string_view data) {
  RETURN_IF_ERROR(ValidateObjectKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  objects_[key] = Object{std::string(data), clock_->Now()};
  return OkStatus();
}

Result<std::string> MemObjectStore::Get(const std::string& key, std::optional<ByteRange> range) {
  RETURN_IF_ERROR(ValidateObjectKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return NotFoundError("object " + key + " not found");
  const std::string& data = it->second.data;
  if (!range) return data;
  if (range->length == 0 || range->offset >= data.size()) {
    return InvalidArgumentError("range " + std::to_string(range->offset) + "+" +
                                std::to_string(range->length) + " is outside object " + key +
                                " of " + std::to_string(data.size()) + " bytes");
  }
  return data.substr(range->offset, std::min<uint64_t>(range->length, data.size() - range->offset));
}

Result<ObjectInfo> MemObjectStore::Head(const std::string& key) {
  RETURN_IF_ERROR(ValidateObjectKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return NotFoundError("object " + key + " not found");
  return ObjectInfo{key, it->second.data.size(), it->second.last_modified};
}

Result<ListPage> MemObjectStore::List(const std::string& prefix, const std::string& token,
                                      size_t max_keys) {
  std::lock_guard<std::mutex> lock(mu_);
  ListPage page;
  max_keys = std::max<size_t>(1, max_keys);
  auto it = token.empty() ? objects_.lower_bound(prefix) : objects_.upper_bound(token);
  for (; it != objects_.end() && it->first.starts_with(prefix); ++it) {
    if (page.objects.size() == max_keys) {
      page.next_token = page.objects.back().key;
      break;
    }
    page.objects.push_back({it->first, it->second.data.size(), it->second.last_modified});
  }
  return page;
}

Status MemObjectStore::Delete(const std::string& key) {
  RETURN_IF_ERROR(ValidateObjectKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  objects_.erase(key);
  return OkStatus();
}

std::string* MemObjectStore::TEST_Object(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : &it->second.data;
}

size_t MemObjectStore::TEST_ObjectCount() {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.size();
}

}  // namespace standby
