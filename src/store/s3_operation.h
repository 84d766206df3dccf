#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace standby {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// One S3 request as a presigned URL fixes it: the method, the object (or the bucket) and
// every query parameter. Headers other than Host and the body are not part of it.
struct S3Operation {
  std::string method;  // GET | HEAD | PUT | POST | DELETE
  std::string key;     // relative to the store's prefix; empty when bucket_level
  bool bucket_level = false;
  QueryParams query;  // decoded
};

// Supplies the presigned query parameters (X-Amz-Signature and the rest) for `op`, for a
// store that holds no credentials. `renew`: the store refused the previous grant for `op`
// (expired); a cached one must not be returned again. kPermissionDenied when `op` is not
// allowed.
using S3Authorizer = std::function<Result<QueryParams>(const S3Operation& op, bool renew)>;

}  // namespace standby
