#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>
#include <string>

#include "snapshot/repository.h"
#include "snapshot/restorer.h"
#include "snapshot/snapshot_writer.h"
#include "store/fs_object_store.h"
#include "testing/test_util.h"

namespace standby {

// A workspace directory, a restore directory and a repository in a local directory.
class SnapshotFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = FsObjectStore::Create(dir_.Sub("repo"));
    ASSERT_TRUE(store.has_value());
    store_ = std::move(*store);
    ASSERT_EQ(::mkdir(ws().c_str(), 0755), 0);
  }

  std::string ws() const { return dir_.Sub("ws"); }
  std::string ws(const std::string& rel) const { return dir_.Sub("ws/" + rel); }
  std::string out() const { return dir_.Sub("out"); }
  std::string out(const std::string& rel) const { return dir_.Sub("out/" + rel); }

  SnapshotOptions Options() {
    SnapshotOptions o;
    o.clock = Clock::Real();
    o.instance_id = "gpu-1";
    o.workspace = ws();
    o.pack_size = 1 << 20;
    return o;
  }

  Result<SnapshotResult> Snap(ObjectStore* store = nullptr, FileSystem* fs = nullptr) {
    SnapshotOptions o = Options();
    if (fs) o.fs = fs;
    return CreateSnapshot(store ? store : store_.get(), o);
  }

  Result<Manifest> Latest(ObjectStore* store = nullptr) {
    store = store ? store : store_.get();
    ASSIGN_OR_RETURN(auto repo, Repository::Open(store, false));
    ASSIGN_OR_RETURN(auto latest, repo->ReadLatest("gpu-1"));
    if (!latest) return NotFoundError("no latest");
    return repo->LoadManifest("gpu-1", *latest);
  }

  Result<RestoreResult> RestoreTo(const std::string& target, bool overwrite = false,
                                  ObjectStore* store = nullptr, FileSystem* fs = nullptr) {
    store = store ? store : store_.get();
    ASSIGN_OR_RETURN(Manifest m, Latest(store));
    RestoreOptions o;
    o.clock = Clock::Real();
    o.target = target;
    o.overwrite = overwrite;
    if (fs) o.fs = fs;
    return RestoreSnapshot(store, m, o);
  }

  // A small GPU-like tree: weights (random), text, an empty dir, an empty file, a symlink.
  void MakeWorkspace() {
    WriteFile(ws("models/model.safetensors"), RandomBytes(3 << 20, 1));
    WriteFile(ws("models/config.json"), "{\"layers\": 12}");
    WriteFile(ws("data/train.txt"), std::string(600000, 't') + RandomBytes(1000, 2));
    WriteFile(ws("run.sh"), "#!/bin/sh\necho hi\n", 0755);
    WriteFile(ws("empty.txt"), "");
    ASSERT_EQ(::mkdir(ws("outputs").c_str(), 0700), 0);
    ASSERT_EQ(::symlink("models/model.safetensors", ws("current").c_str()), 0);
  }

  TempDir dir_;
  std::unique_ptr<ObjectStore> store_;
};

}  // namespace standby
