#include "store/fs_object_store.h"

#include <algorithm>

namespace standby {
namespace {

Error Contextualize(const Error& error, std::string_view key) {
  if (error.code == ErrorCode::kNotFound) {
    return NotFoundError("object " + std::string(key) + " not found");
  }
  return error;
}

}  // namespace

Result<std::unique_ptr<FsObjectStore>> FsObjectStore::Create(const std::string& root,
                                                             FileSystem* fs) {
  if (root.empty() || root.front() != '/') {
    return InvalidArgumentError("repository directory must be an absolute path: " + root);
  }
  std::string clean = root;
  while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
  return std::unique_ptr<FsObjectStore>(new FsObjectStore(clean, fs));
}

Status FsObjectStore::CheckLocation() {
  auto stat = fs_->Lstat(root_);
  if (!stat) {
    if (stat.error().code == ErrorCode::kNotFound) {
      return NotFoundError("no such directory " + root_ + "; check --repo");
    }
    return stat.error().WithContext("repository directory " + root_);
  }
  if (stat->type != FileType::kDirectory && stat->type != FileType::kSymlink) {
    return InvalidArgumentError(root_ + " is not a directory; check --repo");
  }
  return OkStatus();
}

Status FsObjectStore::Put(const std::string& key, std::string_view data) {
  RETURN_IF_ERROR(ValidateObjectKey(key));
  std::string path = JoinPath(root_, key);
  std::string dir(ParentPath(path));
  Status made = MakeDirs(fs_, dir, 0700);
  if (!made) return made.error().WithContext("cannot create repository directory");
  Status written = WriteFileAtomically(fs_, path, data, 0600);
  if (!written) return written.error().WithContext("put " + key);
  return OkStatus();
}

Result<std::string> FsObjectStore::Get(const std::string& key, std::optional<ByteRange> range) {
  RETURN_IF_ERROR(ValidateObjectKey(key));
  auto file = fs_->OpenRead(JoinPath(root_, key));
  if (!file) return Contextualize(file.error(), key);
  ASSIGN_OR_RETURN(FileStat stat, (*file)->Stat());
  if (stat.type != FileType::kRegular) return NotFoundError("object " + key + " not found");
  uint64_t offset = 0;
  uint64_t length = stat.size;
  if (range) {
    if (range->length == 0 || range->offset >= stat.size) {
      return InvalidArgumentError("range " + std::to_string(range->offset) + "+" +
                                  std::to_string(range->length) + " is outside object " + key +
                                  " of " + std::to_string(stat.size) + " bytes");
    }
    offset = range->offset;
    length = std::min(range->length, stat.size - offset);
  }
  std::string out(length, '\0');
  uint64_t done = 0;
  while (done < length) {
    ASSIGN_OR_RETURN(size_t got, (*file)->ReadAt(offset + done, out.data() + done, length - done));
    if (got == 0) return CorruptionError("object " + key + " shrank while being read");
    done += got;
  }
  return out;
}

Result<ObjectInfo> FsObjectStore::Head(const std::string& key) {
  RETURN_IF_ERROR(ValidateObjectKey(key));
  auto stat = fs_->Lstat(JoinPath(root_, key));
  if (!stat) return Contextualize(stat.error(), key);
  if (stat->type != FileType::kRegular) return NotFoundError("object " + key + " not found");
  return ObjectInfo{key, stat->size, stat->mtime_ns};
}

Status FsObjectStore::Walk(const std::string& dir_key, const std::string& prefix,
                           std::vector<ObjectInfo>* out) {
  auto names = fs_->ListDir(dir_key.empty() ? root_ : JoinPath(root_, dir_key));
  if (!names) {
    if (names.error().code == ErrorCode::kNotFound) return OkStatus();
    return names.error();
  }
  for (const std::string& name : *names) {
    if (name.starts_with(kAtomicWriteTempPrefix)) continue;
    std::string key = dir_key.empty() ? name : dir_key + "/" + name;
    // Descend only where keys under `key` can still match the prefix.
    size_t common = std::min(key.size(), prefix.size());
    if (key.compare(0, common, prefix, 0, common) != 0) continue;
    auto stat = fs_->Lstat(JoinPath(root_, key));
    if (!stat) {
      if (stat.error().code == ErrorCode::kNotFound) continue;  // deleted meanwhile
      return stat.error();
    }
    if (stat->type == FileType::kDirectory) {
      RETURN_IF_ERROR(Walk(key, prefix, out));
    } else if (stat->type == FileType::kRegular && key.starts_with(prefix)) {
      out->push_back({key, stat->size, stat->mtime_ns});
    }
  }
  return OkStatus();
}

Result<ListPage> FsObjectStore::List(const std::string& prefix, const std::string& token,
                                     size_t max_keys) {
  std::vector<ObjectInfo> all;
  Status walked = Walk("", prefix, &all);
  if (!walked) return walked.error().WithContext("list " + Url());
  std::sort(all.begin(), all.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  auto begin =
      token.empty()
          ? all.begin()
          : std::upper_bound(all.begin(), all.end(), token,
                             [](const std::string& t, const ObjectInfo& o) { return t < o.key; });
  ListPage page;
  max_keys = std::max<size_t>(1, max_keys);
  for (auto it = begin; it != all.end() && page.objects.size() < max_keys; ++it) {
    page.objects.push_back(*it);
  }
  if (!page.objects.empty() && begin + static_cast<long>(page.objects.size()) != all.end()) {
    page.next_token = page.objects.back().key;
  }
  return page;
}

Status FsObjectStore::RemoveTemporaries(const std::string& dir, UnixNanos cutoff, uint64_t* freed) {
  auto names = fs_->ListDir(dir);
  if (!names) {
    if (names.error().code == ErrorCode::kNotFound) return OkStatus();
    return names.error();
  }
  for (const std::string& name : *names) {
    std::string path = JoinPath(dir, name);
    auto stat = fs_->Lstat(path);
    if (!stat) continue;  // removed meanwhile
    if (stat->type == FileType::kDirectory) {
      RETURN_IF_ERROR(RemoveTemporaries(path, cutoff, freed));
    } else if (stat->type == FileType::kRegular && name.starts_with(kAtomicWriteTempPrefix) &&
               stat->mtime_ns < cutoff) {
      Status removed = fs_->RemoveFile(path);
      if (!removed && removed.error().code != ErrorCode::kNotFound) return removed;
      *freed += stat->size;
    }
  }
  return OkStatus();
}

Result<uint64_t> FsObjectStore::RemoveAbandonedUploads(UnixNanos cutoff) {
  uint64_t freed = 0;
  Status removed = RemoveTemporaries(root_, cutoff, &freed);
  if (!removed) return removed.error().WithContext("removing abandoned uploads in " + Url());
  return freed;
}

Status FsObjectStore::Delete(const std::string& key) {
  RETURN_IF_ERROR(ValidateObjectKey(key));
  Status removed = fs_->RemoveFile(JoinPath(root_, key));
  if (!removed && removed.error().code != ErrorCode::kNotFound) return removed;
  return OkStatus();
}

}  // namespace standby
