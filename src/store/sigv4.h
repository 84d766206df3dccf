#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/sha256_hex.h"
#include "base/time.h"

namespace standby {

struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional
};

// What AWS Signature Version 4 signs about a request.
struct SignableRequest {
  std::string method;
  std::string host;  // as sent in the Host header (with ":port" when not the default)
  std::string path;  // decoded path, e.g. "/bucket/key with space"; encoded while signing
  std::vector<std::pair<std::string, std::string>> query;  // decoded; "uploads" → {"uploads", ""}
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers to sign and send
  std::string payload_sha256;                                // hex, or "UNSIGNED-PAYLOAD"
};

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - . _ ~)
// stay; every other byte becomes %XX (uppercase); '/' stays when `keep_slash`.
std::string UriEncode(std::string_view text, bool keep_slash);

// "?a=1&b=" form: keys sorted, keys and values encoded, "=" always present.
std::string CanonicalQueryString(std::vector<std::pair<std::string, std::string>> query);

std::string CanonicalRequest(const SignableRequest& request, const std::string& amz_date);

// Signs `request` at time `now` for `region` and service "s3". Returns the headers to send in
// addition to request.headers: x-amz-date, x-amz-content-sha256, x-amz-security-token (with a
// session token) and Authorization.
std::vector<std::pair<std::string, std::string>> SignV4(const SignableRequest& request,
                                                        const S3Credentials& credentials,
                                                        const std::string& region, UnixNanos now);

// Query-string signing (a presigned URL): the parameters to append to `request`'s own query,
// X-Amz-Signature included. Only the Host header is signed and the payload is
// UNSIGNED-PAYLOAD, so the holder may add a Range header and send any body, but cannot change
// the method, the path or any query parameter. Valid for `expires` (1 s – 7 days) from `now`.
std::vector<std::pair<std::string, std::string>> PresignV4(const SignableRequest& request,
                                                           const S3Credentials& credentials,
                                                           const std::string& region, UnixNanos now,
                                                           std::chrono::seconds expires);

}  // namespace standby
