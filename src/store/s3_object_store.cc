#include "store/s3_object_store.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "base/parallel.h"
#include "base/strings.h"
#include "base/time.h"
#include "store/xml.h"

namespace standby {
namespace {}  // namespace

Status S3ObjectStore::Put(const std::string& key, std::string_view data) {
  RETURN_IF_ERROR(ValidateObjectKey(key));
  if (data.size() > options_.multipart_threshold) return PutMultipart(key, data);
  ++stats_.puts;
  ASSIGN_OR_RETURN(HttpResponse r, Send({"PUT", key, false, {}, {}, data}));
  if (r.status >= 300) return MapError(r, "PUT " + Url() + key);
  return OkStatus();
}

Status S3ObjectStore::PutMultipart(const std::string& key, std::string_view data) {
  const std::string what = "multipart upload of " + Url() + key;
  ASSIGN_OR_RETURN(HttpResponse created, Send({"POST", key, false, {{"uploads", ""}}, {}, {}}));
  if (created.status >= 300) return MapError(created, what);
  auto upload_id = XmlFirst(created.body, "UploadId");
  if (!upload_id) return InternalError(what + ": the store returned no UploadId");
  size_t parts = (data.size() + options_.part_size - 1) / options_.part_size;
  std::vector<std::string> etags(parts);
  Status uploaded = ParallelFor(parts, options_.concurrency, [&](size_t i) -> Status {
    std::string_view part = data.substr(i * options_.part_size, options_.part_size);
    ++stats_.puts;
    ASSIGN_OR_RETURN(HttpResponse r,
                     Send({"PUT",
                           key,
                           false,
                           {{"partNumber", std::to_string(i + 1)}, {"uploadId", *upload_id}},
                           {},
                           part}));
    if (r.status >= 300) return MapError(r, what + " (part " + std::to_string(i + 1) + ")");
    auto etag = r.Header("ETag");
    if (!etag) return InternalError(what + ": part " + std::to_string(i + 1) + " has no ETag");
    etags[i] = *etag;
    return OkStatus();
  });
  Status completed = uploaded;
  if (completed) {
    std::string body = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < parts; ++i) {
      body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
              XmlEscape(etags[i]) + "</ETag></Part>";
    }
    body += "</CompleteMultipartUpload>";
    auto r = Send({"POST", key, false, {{"uploadId", *upload_id}}, {}, body});
    if (!r) {
      completed = r.error();
    } else if (r->status >= 300 || r->body.find("<Error>") != std::string::npos) {
      // S3 may answer 200 and still report an error in the body.
      completed = MapError(*r, what);
    }
  }
  if (!completed) {
    // Abort so the store keeps (and bills) no orphaned parts. Best effort: the original error
    // is the one to report.
    auto aborted = Send({"DELETE", key, false, {{"uploadId", *upload_id}}, {}, {}});
    (void)aborted;
    return completed.error();
  }
  return OkStatus();
}

Result<std::string> S3ObjectStore::Get(const std::string& key, std::optional<ByteRange> range) {
  return GetWithin(key, range, kMaxObjectBody);
}

Result<std::string> S3ObjectStore::GetBounded(const std::string& key, uint64_t limit) {
  // Room for an error document too (a 404's XML); an object past `limit` is refused below.
  auto body = GetWithin(key, std::nullopt, std::max<uint64_t>(limit, kErrorDocumentRoom));
  if ((body && body->size() > limit) ||
      (!body && body.error().code == ErrorCode::kResourceExhausted)) {
    return ObjectTooLargeError(Url(), key, limit);
  }
  return body;
}

Result<std::string> S3ObjectStore::GetWithin(const std::string& key, std::optional<ByteRange> range,
                                             uint64_t max_body) {
  RETURN_IF_ERROR(ValidateObjectKey(key));
  const std::string what = "GET " + Url() + key;
  Call call{"GET", key, false, {}, {}, {}};
  call.max_body = max_body;
  if (range) {
    if (range->length == 0) return InvalidArgumentError(what + ": empty range");
    call.headers.emplace_back("Range", "bytes=" + std::to_string(range->offset) + "-" +
                                           std::to_string(range->offset + range->length - 1));
  }
  ++stats_.gets;
  ASSIGN_OR_RETURN(HttpResponse r, Send(call));
  if (r.status == 404) return NotFoundError("object " + key + " not found in " + Url());
  if (r.status == 416) return InvalidArgumentError(what + ": range outside the object");
  if (r.status >= 300) return MapError(r, what);
  if (range && r.status == 200) {  // the store ignored the range
    if (range->offset >= r.body.size())
      return InvalidArgumentError(what + ": range outside the object");
    return r.body.substr(range->offset, range->length);
  }
  if (range && r.status == 206) {
    // "bytes FIRST-LAST/TOTAL": exactly the requested start, and all of the range unless the
    // object ends first. Anything else is a short or misplaced answer, never data.
    auto content_range = r.Header("Content-Range").value_or("");
    uint64_t first = 0, last = 0, total = 0;
    int fields = std::sscanf(content_range.c_str(), "bytes %" SCNu64 "-%" SCNu64 "/%" SCNu64,
                             &first, &last, &total);
    const uint64_t want_last = range->offset + range->length - 1;
    if (fields < 2 || first != range->offset || last < first || r.body.size() != last - first + 1 ||
        (last != want_last && !(fields == 3 && last + 1 == total && last < want_last))) {
      return UnavailableError(what + ": the store answered a short or misplaced range (" +
                              content_range + ", " + std::to_string(r.body.size()) + " bytes)");
    }
    return std::move(r.body);
  }
  if (auto length = r.Header("Content-Length"); length && ParseUint(*length) != r.body.size()) {
    return UnavailableError(what + ": body shorter than its Content-Length");
  }
  return std::move(r.body);
}

Result<ObjectInfo> S3ObjectStore::Head(const std::string& key) {
  RETURN_IF_ERROR(ValidateObjectKey(key));
  ASSIGN_OR_RETURN(HttpResponse r, Send({"HEAD", key, false, {}, {}, {}}));
  if (r.status == 404) return NotFoundError("object " + key + " not found in " + Url());
  if (r.status >= 300) return MapError(r, "HEAD " + Url() + key);
  ObjectInfo info{key, 0, 0};
  if (auto length = r.Header("Content-Length")) info.size = ParseUint(*length).value_or(0);
  if (auto modified = r.Header("Last-Modified")) {
    info.last_modified = ParseHttpDate(*modified).value_or(0);
  }
  return info;
}

Result<ListPage> S3ObjectStore::List(const std::string& prefix, const std::string& token,
                                     size_t max_keys) {
  std::vector<std::pair<std::string, std::string>> query = {
      {"list-type", "2"},
      {"prefix", options_.prefix + prefix},
      {"max-keys", std::to_string(std::clamp<size_t>(max_keys, 1, 1000))}};
  if (!token.empty()) query.emplace_back("continuation-token", token);
  Call call{"GET", "", true, query, {}, {}};
  call.timeout = options_.list_timeout;
  ASSIGN_OR_RETURN(HttpResponse r, Send(call));
  if (r.status >= 300) return MapError(r, "list " + Url() + prefix);
  ListPage page;
  for (std::string_view contents : XmlElements(r.body, "Contents")) {
    auto key = XmlFirst(contents, "Key");
    if (!key || !key->starts_with(options_.prefix)) continue;
    ObjectInfo info;
    info.key = key->substr(options_.prefix.size());
    info.size = ParseUint(XmlFirst(contents, "Size").value_or("0")).value_or(0);
    info.last_modified = ParseRfc3339(XmlFirst(contents, "LastModified").value_or("")).value_or(0);
    page.objects.push_back(std::move(info));
  }
  if (XmlFirst(r.body, "IsTruncated").value_or("false") == "true") {
    page.next_token = XmlFirst(r.body, "NextContinuationToken").value_or("");
    if (page.next_token.empty())
      return InternalError("list " + Url() + ": truncated without a token");
  }
  return page;
}

Status S3ObjectStore::Delete(const std::string& key) {
  RETURN_IF_ERROR(ValidateObjectKey(key));
  ASSIGN_OR_RETURN(HttpResponse r, Send({"DELETE", key, false, {}, {}, {}}));
  if (r.status >= 300 && r.status != 404) return MapError(r, "DELETE " + Url() + key);
  return OkStatus();
}

}  // namespace standby
