#include "store/sigv4.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "base/sha256_hex.h"
#include "base/strings.h"

namespace standby {
namespace {

std::string Hmac(std::string_view key, std::string_view data) { return HmacSha256(key, data); }

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims and collapses inner runs of spaces, as SigV4 canonical headers require.
std::string CanonicalValue(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : TrimWhitespace(value)) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string AmzDate(UnixNanos now) {
  time_t seconds = static_cast<time_t>(now / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::vector<std::pair<std::string, std::string>> SignedHeaderList(const SignableRequest& request,
                                                                  const std::string& amz_date) {
  std::vector<std::pair<std::string, std::string>> headers;
  headers.emplace_back("host", request.host);
  headers.emplace_back("x-amz-content-sha256", request.payload_sha256);
  headers.emplace_back("x-amz-date", amz_date);
  for (const auto& [name, value] : request.headers) {
    std::string lower = Lower(name);
    if (lower == "host" || lower == "x-amz-content-sha256" || lower == "x-amz-date") continue;
    headers.emplace_back(lower, CanonicalValue(value));
  }
  std::sort(headers.begin(), headers.end());
  return headers;
}

std::string SigningKey(const S3Credentials& credentials, const std::string& date,
                       const std::string& region) {
  std::string key = Hmac("AWS4" + credentials.secret_access_key, date);
  key = Hmac(key, region);
  key = Hmac(key, "s3");
  return Hmac(key, "aws4_request");
}

}  // namespace

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string CanonicalQueryString(std::vector<std::pair<std::string, std::string>> query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (auto& [key, value] : query)
    encoded.emplace_back(UriEncode(key, false), UriEncode(value, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [key, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += key + "=" + value;
  }
  return out;
}

std::string CanonicalRequest(const SignableRequest& request, const std::string& amz_date) {
  std::string out = request.method + "\n" + UriEncode(request.path, true) + "\n" +
                    CanonicalQueryString(request.query) + "\n";
  std::string signed_names;
  for (const auto& [name, value] : SignedHeaderList(request, amz_date)) {
    out += name + ":" + value + "\n";
    if (!signed_names.empty()) signed_names.push_back(';');
    signed_names += name;
  }
  return out + "\n" + signed_names + "\n" + request.payload_sha256;
}

std::vector<std::pair<std::string, std::string>> SignV4(const SignableRequest& request,
                                                        const S3Credentials& credentials,
                                                        const std::string& region, UnixNanos now) {
  std::string amz_date = AmzDate(now);
  SignableRequest with_token = request;
  if (!credentials.session_token.empty()) {
    with_token.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  std::string date = amz_date.substr(0, 8);
  std::string scope = date + "/" + region + "/s3/aws4_request";
  std::string canonical = CanonicalRequest(with_token, amz_date);
  std::string to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + Sha256Hex(canonical);
  std::string signature = HexEncode(Hmac(SigningKey(credentials, date, region), to_sign));
  std::string signed_names;
  for (const auto& [name, value] : SignedHeaderList(with_token, amz_date)) {
    if (!signed_names.empty()) signed_names.push_back(';');
    signed_names += name;
  }
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("x-amz-date", amz_date);
  out.emplace_back("x-amz-content-sha256", request.payload_sha256);
  if (!credentials.session_token.empty()) {
    out.emplace_back("x-amz-security-token", credentials.session_token);
  }
  out.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id +
                                        "/" + scope + ", SignedHeaders=" + signed_names +
                                        ", Signature=" + signature);
  return out;
}

std::vector<std::pair<std::string, std::string>> PresignV4(const SignableRequest& request,
                                                           const S3Credentials& credentials,
                                                           const std::string& region, UnixNanos now,
                                                           std::chrono::seconds expires) {
  const std::string amz_date = AmzDate(now);
  const std::string date = amz_date.substr(0, 8);
  const std::string scope = date + "/" + region + "/s3/aws4_request";
  std::vector<std::pair<std::string, std::string>> added = {
      {"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
      {"X-Amz-Credential", credentials.access_key_id + "/" + scope},
      {"X-Amz-Date", amz_date},
      {"X-Amz-Expires", std::to_string(std::clamp<int64_t>(expires.count(), 1, 604800))},
      {"X-Amz-SignedHeaders", "host"}};
  if (!credentials.session_token.empty()) {
    added.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  std::vector<std::pair<std::string, std::string>> query = request.query;
  query.insert(query.end(), added.begin(), added.end());
  const std::string canonical = request.method + "\n" + UriEncode(request.path, true) + "\n" +
                                CanonicalQueryString(query) + "\nhost:" + request.host +
                                "\n\nhost\nUNSIGNED-PAYLOAD";
  const std::string to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + Sha256Hex(canonical);
  added.emplace_back("X-Amz-Signature",
                     HexEncode(Hmac(SigningKey(credentials, date, region), to_sign)));
  return added;
}

}  // namespace standby
