#pragma once

#include <memory>
#include <string>

#include "env/file_system.h"
#include "store/object_store.h"

namespace standby {

// Objects as files under a root directory: key "a/b" is file "<root>/a/b". Put writes a
// hidden temporary file beside the target, fsyncs it, renames it into place and fsyncs the
// directory, so an object is either whole or absent after a crash. Temporary files
// (".standby-tmp-*") are never listed. Objects are 0600 and directories 0700: a repository
// holds workspace data. The root is created by the first Put, never by opening or reading.
class FsObjectStore : public ObjectStore {
 public:
  // `root` must be an absolute path; it need not exist yet.
  static Result<std::unique_ptr<FsObjectStore>> Create(const std::string& root,
                                                       FileSystem* fs = FileSystem::Real());

  Status Put(const std::string& key, std::string_view data) override;
  Result<std::string> Get(const std::string& key,
                          std::optional<ByteRange> range = std::nullopt) override;
  Result<ObjectInfo> Head(const std::string& key) override;
  Result<ListPage> List(const std::string& prefix, const std::string& token,
                        size_t max_keys = 1000) override;
  Status Delete(const std::string& key) override;
  std::string Url() const override { return "file://" + root_; }
  Status CheckLocation() override;
  Result<uint64_t> RemoveAbandonedUploads(UnixNanos cutoff) override;
  size_t PreferredConcurrency() const override { return 4; }

 private:
  FsObjectStore(std::string root, FileSystem* fs) : root_(std::move(root)), fs_(fs) {}
  Status Walk(const std::string& dir_key, const std::string& prefix, std::vector<ObjectInfo>* out);
  Status RemoveTemporaries(const std::string& dir, UnixNanos cutoff, uint64_t* freed);

  std::string root_;
  FileSystem* fs_;
};

}  // namespace standby
