// Request signing, retries, clock-skew correction and error mapping of S3ObjectStore.
#include <arpa/inet.h>

#include <ctime>
#include <thread>

#include "base/log.h"
#include "base/strings.h"
#include "env/loopback.h"
#include "env/random.h"
#include "store/s3_object_store.h"
#include "store/xml.h"

namespace standby {
namespace {

// Backoff spent on an endpoint that refuses connections before the request fails.
constexpr std::chrono::milliseconds kRefusedBudget{3000};

// IP-address and localhost endpoints have no bucket subdomains: path style by default.
bool IsIpOrLocalhost(const std::string& host) {
  in_addr v4;
  in6_addr v6;
  return host == "localhost" || inet_pton(AF_INET, host.c_str(), &v4) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

bool RetryableStatus(int status, const std::string& code) {
  return status == 500 || status == 502 || status == 503 || status == 504 || status == 429 ||
         code == "SlowDown" || code == "RequestTimeout" || code == "InternalError";
}

}  // namespace

Status ParseS3Url(const std::string& url, S3Options* options) {
  if (!url.starts_with("s3://")) return InvalidArgumentError("not an s3:// URL: " + url);
  std::string rest = url.substr(5);
  size_t slash = rest.find('/');
  options->bucket = rest.substr(0, slash);
  options->prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (options->bucket.empty()) return InvalidArgumentError("s3 URL has no bucket: " + url);
  while (!options->prefix.empty() && options->prefix.front() == '/') options->prefix.erase(0, 1);
  if (!options->prefix.empty() && options->prefix.back() != '/') options->prefix.push_back('/');
  return OkStatus();
}

Result<S3Endpoint> ParseS3Endpoint(const std::string& endpoint, const std::string& region) {
  S3Endpoint out;
  std::string rest = endpoint.empty() ? "s3." + region + ".amazonaws.com" : endpoint;
  if (rest.starts_with("https://")) {
    rest = rest.substr(8);
  } else if (rest.starts_with("http://")) {
    out.tls = false;
    rest = rest.substr(7);
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  std::string port;
  if (!rest.empty() && rest.front() == '[') {  // [::1]:9000
    size_t close = rest.find(']');
    if (close == std::string::npos) return InvalidArgumentError("bad S3 endpoint " + endpoint);
    out.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
    out.host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  } else {
    out.host = rest;
  }
  out.port = out.tls ? 443 : 80;
  if (!port.empty()) {
    auto parsed = ParseUint(port);
    if (!parsed || *parsed == 0 || *parsed > 65535) {
      return InvalidArgumentError("bad port in S3 endpoint " + endpoint);
    }
    out.port = static_cast<uint16_t>(*parsed);
  }
  if (out.host.empty() || out.host.find('/') != std::string::npos) {
    return InvalidArgumentError("bad S3 endpoint " + endpoint + " (expected host[:port] or URL)");
  }
  if (!out.tls && !IsLoopbackAddress(out.host)) {
    return InvalidArgumentError("refusing plain HTTP to " + out.host +
                                ": credentials would cross the network unencrypted; use https://");
  }
  return out;
}

Result<std::unique_ptr<S3ObjectStore>> S3ObjectStore::Create(S3Options options, HttpClient* http,
                                                             Clock* clock) {
  if (options.bucket.empty()) return InvalidArgumentError("S3 bucket is empty");
  if (!options.authorizer && (options.credentials.access_key_id.empty() ||
                              options.credentials.secret_access_key.empty())) {
    return PermissionDeniedError(
        "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or B2_KEY_ID and "
        "B2_APPLICATION_KEY) in the environment or .env");
  }
  if (options.part_size < 5 * 1024 * 1024) {
    return InvalidArgumentError("S3 multipart part size must be at least 5 MiB");
  }
  ASSIGN_OR_RETURN(S3Endpoint endpoint, ParseS3Endpoint(options.endpoint, options.region));
  if (!options.path_style) {
    options.path_style = IsIpOrLocalhost(endpoint.host);
  }
  RegisterSecret(options.credentials.secret_access_key);
  RegisterSecret(options.credentials.session_token);
  return std::unique_ptr<S3ObjectStore>(
      new S3ObjectStore(std::move(options), std::move(endpoint), http, clock));
}

Result<std::string> S3ConnectHost(const S3Options& options) {
  ASSIGN_OR_RETURN(S3Endpoint endpoint, ParseS3Endpoint(options.endpoint, options.region));
  bool path_style = options.path_style.value_or(IsIpOrLocalhost(endpoint.host));
  return path_style ? endpoint.host : options.bucket + "." + endpoint.host;
}

std::string S3ObjectStore::Url() const { return "s3://" + options_.bucket + "/" + options_.prefix; }

void S3ObjectStore::ObserveServerDate(const HttpResponse& response, UnixNanos local_now) {
  auto date = response.Header("Date");
  if (!date) return;
  auto server = ParseHttpDate(*date);
  if (!server) return;
  int64_t offset = (*server - local_now) / 1'000'000'000;
  if (std::abs(offset - offset_seconds_.load()) <= 5) return;
  offset_seconds_ = offset;
  if (!skew_logged_.exchange(true)) {
    spdlog::warn("Clock skew: local clock is {} s {} the object store; signing with corrected time",
                 std::abs(offset), offset > 0 ? "behind" : "ahead of");
  }
}

Error S3ObjectStore::MapError(const HttpResponse& response, const std::string& what) const {
  std::string code = XmlFirst(response.body, "Code").value_or("");
  std::string message = XmlFirst(response.body, "Message").value_or("");
  std::string status = "HTTP " + std::to_string(response.status) + (code.empty() ? "" : " " + code);
  if (code == "NoSuchBucket") {
    return NotFoundError(what + ": bucket " + options_.bucket + " does not exist at " +
                         endpoint_.host + " (" + status + "); create it or fix the URL");
  }
  if (response.status == 404) return NotFoundError(what + ": not found (" + status + ")");
  if (code == "SignatureDoesNotMatch") {
    return PermissionDeniedError(what + ": the store rejected our signature (" + status +
                                 "); check the secret key and the region (" + options_.region +
                                 ")");
  }
  if (code == "InvalidAccessKeyId") {
    return PermissionDeniedError(what + ": unknown access key id (" + status +
                                 "); check AWS_ACCESS_KEY_ID / B2_KEY_ID");
  }
  if (response.status == 403) {
    return PermissionDeniedError(what + ": access denied (" + status +
                                 "); the key lacks permission on bucket " + options_.bucket);
  }
  if (response.status == 416) return InvalidArgumentError(what + ": range not satisfiable");
  if (RetryableStatus(response.status, code)) {
    return UnavailableError(what + ": the store is unavailable (" + status +
                            "), retries exhausted");
  }
  return InternalError(what + ": unexpected " + status + (message.empty() ? "" : ": " + message));
}

std::string S3ObjectStore::ConnectHost() const {
  return *options_.path_style ? endpoint_.host : options_.bucket + "." + endpoint_.host;
}

SignableRequest S3ObjectStore::Signable(const S3Operation& op) const {
  std::string object_path = op.bucket_level ? "" : options_.prefix + op.key;
  SignableRequest signable;
  signable.method = op.method;
  bool default_port = endpoint_.port == (endpoint_.tls ? 443 : 80);
  const std::string host = ConnectHost();
  signable.host = default_port ? host : host + ":" + std::to_string(endpoint_.port);
  signable.path = *options_.path_style
                      ? "/" + options_.bucket + (op.bucket_level ? "" : "/" + object_path)
                      : "/" + object_path;
  signable.query = op.query;
  return signable;
}

Result<QueryParams> S3ObjectStore::Presign(const S3Operation& op,
                                           std::chrono::seconds expires) const {
  if (options_.credentials.access_key_id.empty()) {
    return PermissionDeniedError("cannot presign for " + Url() + ": this store has no credentials");
  }
  UnixNanos now = clock_->Now() + offset_seconds_.load() * 1'000'000'000;
  return PresignV4(Signable(op), options_.credentials, options_.region, now, expires);
}

Result<HttpResponse> S3ObjectStore::Send(const Call& call) {
  const S3Operation op{call.method, call.key, call.bucket_level, call.query};
  SignableRequest signable = Signable(op);
  signable.headers = call.headers;
  signable.payload_sha256 = options_.authorizer ? "" : Sha256Hex(call.body);
  std::string what = call.method + " " + Url() + call.key;

  HttpRequest request;
  request.method = call.method;
  request.tls = endpoint_.tls;
  request.host = ConnectHost();
  request.port = endpoint_.port;
  const std::string path = UriEncode(signable.path, true);
  request.body = call.body;
  request.timeout = call.timeout.count() ? call.timeout : options_.request_timeout;
  request.max_body = call.max_body;

  int64_t waited_ms = 0;
  std::optional<Error> last_error;
  int attempts = 0;
  bool renew_grant = false;
  bool refused = false;  // the last attempt's connection was refused
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    attempts = attempt;
    if (attempt > 1) ++stats_.retries;
    ++stats_.requests;
    UnixNanos local_now = clock_->Now();
    request.headers = call.headers;
    QueryParams query = call.query;
    if (options_.authorizer) {
      ASSIGN_OR_RETURN(QueryParams grant, options_.authorizer(op, renew_grant));
      query.insert(query.end(), grant.begin(), grant.end());
    } else {
      for (auto& header : SignV4(signable, options_.credentials, options_.region,
                                 local_now + offset_seconds_.load() * 1'000'000'000)) {
        request.headers.push_back(std::move(header));
      }
    }
    request.target = path;
    if (std::string text = CanonicalQueryString(query); !text.empty()) request.target += "?" + text;
    auto response = http_->Send(request);
    bool retry = false;
    if (!response) {
      last_error = response.error().WithContext(what);
      retry = response.error().retryable;
      refused = response.error().message.ends_with(kConnectionRefused);
    } else {
      refused = false;
      stats_.retries += static_cast<uint64_t>(response->transport_retries);
      ObserveServerDate(*response, local_now);
      if (response->status < 300) return response;
      std::string code = XmlFirst(response->body, "Code").value_or("");
      if (code == "RequestTimeTooSkewed" && attempt < options_.max_attempts) {
        continue;  // the Date header has set the offset; re-sign at once
      }
      if (options_.authorizer && response->status == 403 && !renew_grant &&
          attempt < options_.max_attempts) {
        renew_grant = true;  // the grant expired: ask for a fresh one, once
        continue;
      }
      if (!RetryableStatus(response->status, code)) return response;
      last_error = MapError(*response, what);
      retry = true;
    }
    if (!retry) break;
    if (attempt == options_.max_attempts) break;
    int64_t cap =
        std::min<int64_t>(options_.base_backoff.count() << std::min(attempt - 1, 16), 20'000);
    int64_t sleep_ms = cap / 2 + static_cast<int64_t>(Random::Real()->Below(cap - cap / 2 + 1));
    if (waited_ms + sleep_ms > options_.retry_budget.count()) break;
    // Nothing listening is seldom fixed by waiting long (a store restarting is back in
    // seconds): a mistyped endpoint gets its answer quickly.
    if (refused && waited_ms + sleep_ms > kRefusedBudget.count()) break;
    waited_ms += sleep_ms;
    spdlog::debug("{}: {}; retrying in {} ms", what, last_error->message, sleep_ms);
    clock_->SleepFor(std::chrono::milliseconds(sleep_ms));
  }
  Error error = last_error.value_or(UnavailableError(what + ": failed"));
  if (attempts > 1) error.message += " (gave up after " + std::to_string(attempts) + " attempts)";
  if (refused) error.message += "; is the store listening there? check --s3-endpoint";
  return error;
}

}  // namespace standby
