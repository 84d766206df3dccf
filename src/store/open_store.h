#pragma once

#include <memory>
#include <string>

#include "store/object_store.h"

namespace standby {

// Opens the store a `--repo` value names: an absolute or relative directory path, or
// file:///abs/path. s3:// URLs are recognised and refused with a clear message until the
// S3 backend is built in.
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const std::string& repo);

}  // namespace standby
