#include "store/object_store.h"

namespace standby {

Status ObjectStore::CheckLocation() {
  auto page = List("", "", 1);
  if (!page) return page.error();
  return OkStatus();
}

Status ValidateObjectKey(std::string_view key) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("invalid object key \"" + std::string(key) +
                                "\": " + std::string(why));
  };
  if (key.empty()) return bad("empty");
  if (key.front() == '/') return bad("starts with '/'");
  if (key.find('\0') != std::string_view::npos) return bad("contains NUL");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view segment = key.substr(start, end - start);
    if (segment.empty()) return bad("has an empty path segment");
    if (segment == "." || segment == "..") return bad("has a '.' or '..' segment");
    start = end + 1;
  }
  return OkStatus();
}

Result<std::vector<ObjectInfo>> ListAll(ObjectStore* store, const std::string& prefix) {
  std::vector<ObjectInfo> all;
  std::string token;
  // Each page advances the token strictly; a store that repeats a token is a bug there.
  for (int page = 0; page < 10'000'000; ++page) {
    ASSIGN_OR_RETURN(ListPage listed, store->List(prefix, token));
    for (auto& object : listed.objects) all.push_back(std::move(object));
    if (listed.next_token.empty()) return all;
    if (listed.next_token == token) {
      return InternalError("listing " + store->Url() + " did not advance past " + token);
    }
    token = std::move(listed.next_token);
  }
  return InternalError("listing " + store->Url() + " returned too many pages");
}

Error ObjectTooLargeError(const std::string& url, const std::string& key, uint64_t limit) {
  return ResourceExhaustedError(url + (url.ends_with("/") ? "" : "/") + key + " is larger than " +
                                std::to_string(limit) +
                                " bytes, more than such an object ever holds; not read (was it "
                                "written by a misbehaving host?)");
}

Result<std::string> ObjectStore::GetBounded(const std::string& key, uint64_t limit) {
  auto body = Get(key, ByteRange{0, limit + 1});
  if (!body && body.error().code == ErrorCode::kInvalidArgument) {
    // A range starting at the end: the object may be empty (or the key is bad: Head says).
    ASSIGN_OR_RETURN(ObjectInfo info, Head(key));
    if (info.size == 0) return std::string();
    return body.error();
  }
  if (body && body->size() > limit) return ObjectTooLargeError(Url(), key, limit);
  return body;
}

}  // namespace standby
