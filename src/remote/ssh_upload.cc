// SshSession::UploadFile: SFTP, temporary name, fsync, chmod, rename.
#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include "env/random.h"
#include "remote/ssh_session.h"

namespace standby {
namespace {

struct SftpDeleter {
  void operator()(sftp_session sftp) const { sftp_free(sftp); }
};

std::string RandomSuffix() { return Random::Real()->HexId(16); }

}  // namespace

Status SshSession::UploadFile(std::string_view content, const std::string& path, uint32_t mode) {
  const std::string where = "upload to " + options_.target.Describe() + ":" + path;
  std::unique_ptr<sftp_session_struct, SftpDeleter> sftp(sftp_new(session_));
  if (!sftp || sftp_init(sftp.get()) != SSH_OK) {
    return UnavailableError(where + ": SFTP unavailable (" + ssh_get_error(session_) + ")");
  }
  auto fail = [&](const std::string& step) {
    return UnavailableError(where + ": " + step + " failed (SFTP status " +
                            std::to_string(sftp_get_error(sftp.get())) + ", " +
                            ssh_get_error(session_) + ")");
  };
  // Parents, one level at a time; existing ones are fine.
  for (size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string parent = path.substr(0, slash);
    if (parent.empty()) continue;
    if (sftp_mkdir(sftp.get(), parent.c_str(), 0700) != SSH_OK) {
      sftp_attributes attributes = sftp_stat(sftp.get(), parent.c_str());
      if (attributes == nullptr) return fail("mkdir " + parent);
      sftp_attributes_free(attributes);
    }
  }
  std::string temp = path + ".upload-" + RandomSuffix();
  sftp_file file = sftp_open(sftp.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0700);
  if (file == nullptr) return fail("create " + temp);
  constexpr size_t kPiece = 32 * 1024;
  for (size_t offset = 0; offset < content.size(); offset += kPiece) {
    size_t n = std::min(kPiece, content.size() - offset);
    if (sftp_write(file, content.data() + offset, n) != static_cast<ssize_t>(n)) {
      sftp_close(file);
      sftp_unlink(sftp.get(), temp.c_str());
      return fail("write");
    }
  }
  bool synced =
      !sftp_extension_supported(sftp.get(), "fsync@openssh.com", "1") || sftp_fsync(file) == SSH_OK;
  if (sftp_close(file) != SSH_OK || !synced) {
    sftp_unlink(sftp.get(), temp.c_str());
    return fail("close");
  }
  if (sftp_chmod(sftp.get(), temp.c_str(), mode) != SSH_OK) {
    sftp_unlink(sftp.get(), temp.c_str());
    return fail("chmod");
  }
  if (sftp_rename(sftp.get(), temp.c_str(), path.c_str()) != SSH_OK) {
    // Another controller may have put the same file there first.
    sftp_attributes existing = sftp_stat(sftp.get(), path.c_str());
    sftp_unlink(sftp.get(), temp.c_str());
    if (existing == nullptr) return fail("rename into place");
    sftp_attributes_free(existing);
  }
  return OkStatus();
}

}  // namespace standby
