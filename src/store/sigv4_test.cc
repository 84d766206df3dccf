// Pinned to AWS's published Signature Version 4 examples for S3 (header-based auth,
// "Examples: Signature Calculations"): example credentials, us-east-1, 2013-05-24.
#include "store/sigv4.h"

#include <gtest/gtest.h>

namespace standby {
namespace {

const S3Credentials kExample{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                             ""};
const UnixNanos k20130524 = 1369353600LL * 1'000'000'000;
const std::string kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string SignatureOf(const std::vector<std::pair<std::string, std::string>>& headers) {
  for (const auto& [name, value] : headers) {
    if (name == "Authorization") return value.substr(value.find("Signature=") + 10);
  }
  return "";
}

std::string AuthorizationOf(const std::vector<std::pair<std::string, std::string>>& headers) {
  for (const auto& [name, value] : headers) {
    if (name == "Authorization") return value;
  }
  return "";
}

TEST(SigV4Test, GetObjectWithRange) {
  SignableRequest r{"GET", "examplebucket.s3.amazonaws.com", "/test.txt",
                    {},    {{"Range", "bytes=0-9"}},         kEmpty};
  auto headers = SignV4(r, kExample, "us-east-1", k20130524);
  EXPECT_EQ(AuthorizationOf(headers),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, PutObjectWithSpecialCharacterInKey) {
  std::string body = "Welcome to Amazon S3.";
  ASSERT_EQ(Sha256Hex(body), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SignableRequest r{
      "PUT",
      "examplebucket.s3.amazonaws.com",
      "/test$file.text",
      {},
      {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
      Sha256Hex(body)};
  EXPECT_EQ(CanonicalRequest(r, "20130524T000000Z").substr(0, 22), "PUT\n/test%24file.text\n");
  EXPECT_EQ(SignatureOf(SignV4(r, kExample, "us-east-1", k20130524)),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4Test, ListObjectsWithQuery) {
  SignableRequest r{"GET", "examplebucket.s3.amazonaws.com",
                    "/",   {{"prefix", "J"}, {"max-keys", "2"}},
                    {},    kEmpty};
  EXPECT_EQ(SignatureOf(SignV4(r, kExample, "us-east-1", k20130524)),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4Test, GetBucketLifecycleWithValuelessParameter) {
  SignableRequest r{"GET", "examplebucket.s3.amazonaws.com", "/", {{"lifecycle", ""}}, {}, kEmpty};
  EXPECT_EQ(SignatureOf(SignV4(r, kExample, "us-east-1", k20130524)),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4Test, EncodesKeysAndQueriesTheWayS3Expects) {
  EXPECT_EQ(UriEncode("dir/a b+c=d", true), "dir/a%20b%2Bc%3Dd");
  EXPECT_EQ(UriEncode("ключ/ü", true), "%D0%BA%D0%BB%D1%8E%D1%87/%C3%BC");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UriEncode("A-z_0.9~", false), "A-z_0.9~");
  EXPECT_EQ(CanonicalQueryString({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(CanonicalQueryString({{"uploadId", "a+b/c=="}, {"partNumber", "3"}}),
            "partNumber=3&uploadId=a%2Bb%2Fc%3D%3D");
  EXPECT_EQ(CanonicalQueryString(
                {{"list-type", "2"}, {"continuation-token", "1/x y"}, {"prefix", "snapshots/"}}),
            "continuation-token=1%2Fx%20y&list-type=2&prefix=snapshots%2F");
}

TEST(SigV4Test, SessionTokenIsSignedAndSent) {
  S3Credentials with_token = kExample;
  with_token.session_token = "FQoGZXIvYXdzEXAMPLETOKEN";
  SignableRequest r{"GET", "examplebucket.s3.amazonaws.com", "/test.txt", {}, {}, kEmpty};
  auto headers = SignV4(r, with_token, "us-east-1", k20130524);
  EXPECT_NE(AuthorizationOf(headers).find("x-amz-security-token"), std::string::npos);
  EXPECT_NE(SignatureOf(headers), SignatureOf(SignV4(r, kExample, "us-east-1", k20130524)));
}

// AWS's query-string example ("Authenticating Requests: Using Query Parameters").
TEST(SigV4Test, PresignedGetMatchesAwsExample) {
  SignableRequest r{"GET", "examplebucket.s3.amazonaws.com", "/test.txt", {}, {}, ""};
  auto query = PresignV4(r, kExample, "us-east-1", k20130524, std::chrono::seconds(86400));
  ASSERT_EQ(query.size(), 6u);
  EXPECT_EQ(query[1].second, "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request");
  EXPECT_EQ(query[3].second, "86400");
  EXPECT_EQ(query.back().first, "X-Amz-Signature");
  EXPECT_EQ(query.back().second,
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4Test, PresignedUrlBindsMethodPathAndQuery) {
  SignableRequest get{"GET", "examplebucket.s3.amazonaws.com", "/packs/ab/1", {}, {}, ""};
  auto signature = [](const SignableRequest& r) {
    return PresignV4(r, kExample, "us-east-1", k20130524, std::chrono::seconds(900)).back().second;
  };
  SignableRequest put = get;
  put.method = "PUT";
  SignableRequest other = get;
  other.path = "/packs/ab/2";
  SignableRequest part = put;
  part.query = {{"partNumber", "1"}, {"uploadId", "u"}};
  EXPECT_NE(signature(get), signature(put));
  EXPECT_NE(signature(get), signature(other));
  EXPECT_NE(signature(put), signature(part));
  S3Credentials with_token = kExample;
  with_token.session_token = "FQoGZXIvYXdzEXAMPLETOKEN";
  auto query = PresignV4(get, with_token, "us-east-1", k20130524, std::chrono::seconds(900));
  EXPECT_EQ(query[5].first, "X-Amz-Security-Token");
}

}  // namespace
}  // namespace standby
