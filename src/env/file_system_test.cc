#include "env/file_system.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>

#include "env/fault_injecting_file_system.h"
#include "testing/test_util.h"

namespace standby {
namespace {

class FileSystemTest : public ::testing::Test {
 protected:
  TempDir dir_;
  FileSystem* fs_ = FileSystem::Real();
};

TEST_F(FileSystemTest, WritesAtomicallyAndReadsBack) {
  std::string path = dir_.Sub("a/b/file");
  ASSERT_OK(MakeDirs(fs_, dir_.Sub("a/b")));
  ASSERT_OK(WriteFileAtomically(fs_, path, "hello", 0600));
  ASSERT_OK_AND_ASSIGN(std::string text, ReadFileToString(fs_, path));
  EXPECT_EQ(text, "hello");
  ASSERT_OK_AND_ASSIGN(FileStat stat, fs_->Lstat(path));
  EXPECT_EQ(stat.type, FileType::kRegular);
  EXPECT_EQ(stat.mode, 0600u);
  EXPECT_EQ(stat.size, 5u);
  ASSERT_OK_AND_ASSIGN(auto names, fs_->ListDir(dir_.Sub("a/b")));
  EXPECT_EQ(names, std::vector<std::string>{"file"});  // no temp file left behind
}

TEST_F(FileSystemTest, SymlinksAreNeverFollowed) {
  WriteFile(dir_.Sub("target"), "secret");
  ASSERT_OK(fs_->Symlink("target", dir_.Sub("link")));
  ASSERT_OK_AND_ASSIGN(FileStat stat, fs_->Lstat(dir_.Sub("link")));
  EXPECT_EQ(stat.type, FileType::kSymlink);
  ASSERT_OK_AND_ASSIGN(std::string target, fs_->ReadLink(dir_.Sub("link")));
  EXPECT_EQ(target, "target");
  EXPECT_FALSE(fs_->OpenRead(dir_.Sub("link")).has_value());
  EXPECT_FALSE(fs_->OpenWrite(dir_.Sub("link"), 0644).has_value());
  ASSERT_OK(fs_->SetMtime(dir_.Sub("link"), 1'000'000'000'123));
  ASSERT_OK_AND_ASSIGN(FileStat after, fs_->Lstat(dir_.Sub("link")));
  EXPECT_EQ(after.mtime_ns, 1'000'000'000'123);
}

TEST_F(FileSystemTest, ErrorsNameThePathAndReason) {
  auto missing = fs_->Lstat(dir_.Sub("nope"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
  EXPECT_EQ(fs_->MakeDir(dir_.path(), 0755).error().code, ErrorCode::kConflict);
}

TEST_F(FileSystemTest, RemoveAllRemovesTreesAndToleratesMissingPaths) {
  WriteFile(dir_.Sub("t/x/y"), "1");
  ASSERT_OK(fs_->Symlink("/etc", dir_.Sub("t/etc")));
  ASSERT_OK(RemoveAll(fs_, dir_.Sub("t")));
  EXPECT_EQ(fs_->Lstat(dir_.Sub("t")).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(fs_->Lstat("/etc/hostname").has_value() || fs_->Lstat("/etc").has_value());
  ASSERT_OK(RemoveAll(fs_, dir_.Sub("t")));
}

TEST_F(FileSystemTest, FaultInjectionReportsFullDiskAndRefusedOpens) {
  FaultInjectingFileSystem faulty(fs_);
  faulty.SetWriteBudget(10);
  ASSERT_OK_AND_ASSIGN(auto file, faulty.OpenWrite(dir_.Sub("f"), 0644));
  ASSERT_OK(file->WriteAt(0, "12345"));
  Status full = file->WriteAt(5, "1234567890");
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error().code, ErrorCode::kResourceExhausted);
  faulty.FailOpenRead("secret", EACCES);
  WriteFile(dir_.Sub("secret.bin"), "x");
  EXPECT_EQ(faulty.OpenRead(dir_.Sub("secret.bin")).error().code, ErrorCode::kPermissionDenied);
}

TEST(EnsurePrivateDirectoryTest, CreatesOursAndRefusesOnesOthersCanWrite) {
  TempDir dir;
  ASSERT_OK(EnsurePrivateDirectory(dir.Sub("state")));
  EXPECT_EQ(FileSystem::Real()->Lstat(dir.Sub("state"))->mode, 0700u);
  ASSERT_EQ(::chmod(dir.Sub("state").c_str(), 0777), 0);
  auto open = EnsurePrivateDirectory(dir.Sub("state"));
  ASSERT_FALSE(open.has_value());
  EXPECT_EQ(open.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(open.error().message.find("chmod go-w"), std::string::npos);
  ASSERT_EQ(::chmod(dir.Sub("state").c_str(), 0755), 0);
  EXPECT_OK(EnsurePrivateDirectory(dir.Sub("state")));
}

}  // namespace
}  // namespace standby
