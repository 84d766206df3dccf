#include "testing/sshd.h"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "env/file_system.h"
#include "env/local_sshd.h"
#include "testing/child_process.h"
#include "testing/s3rver.h"

namespace standby {
namespace {

Status Run(const std::string& command) {
  if (std::system(command.c_str()) != 0) return UnavailableError("failed: " + command);
  return OkStatus();
}

std::string ReadProcFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (char& c : text) {
    if (c == '\0') c = ' ';
  }
  return text;
}

}  // namespace

std::string ProcessArgsAndEnvironment(pid_t pid) {
  std::string base = "/proc/" + std::to_string(pid);
  return ReadProcFile(base + "/cmdline") + " " + ReadProcFile(base + "/environ");
}

Result<std::unique_ptr<SshdHost>> SshdHost::Start(const std::string& authorized_key) {
  std::unique_ptr<SshdHost> host(new SshdHost());
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp ? tmp : "/tmp") + "/standby-sshd-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) return ErrnoError(errno, "mkdtemp");
  host->root_ = dir;
  host->home_ = dir + "/home";
  passwd* pw = ::getpwuid(::geteuid());
  if (pw == nullptr) return InternalError("no passwd entry for the test user");
  host->user_ = pw->pw_name;
  FileSystem* fs = FileSystem::Real();
  RETURN_IF_ERROR(MakeDirs(fs, host->home_, 0755));
  host->port_ = FreeLoopbackPort();
  RETURN_IF_ERROR(PrepareLocalSshd({dir, host->home_, host->port_, authorized_key}));
  RETURN_IF_ERROR(host->Launch());
  return host;
}

Status SshdHost::Launch() {
  ASSIGN_OR_RETURN(pid_, SpawnChild(LocalSshdCommand(root_), root_ + "/sshd.log"));
  if (!WaitForPort(port_, 10000)) {
    return UnavailableError("sshd did not listen on port " + std::to_string(port_) + "; see " +
                            root_ + "/sshd.log");
  }
  return OkStatus();
}

SshdHost::~SshdHost() {
  Stop();
  if (!root_.empty()) RemoveAll(FileSystem::Real(), root_).IgnoreError();
}

std::string SshdHost::target() const { return user_ + "@127.0.0.1:" + std::to_string(port_); }

void SshdHost::Stop() {
  for (pid_t session : SessionProcesses()) ::kill(session, SIGKILL);
  StopChild(pid_);
  pid_ = -1;
}

Status SshdHost::Restart() {
  if (pid_ > 0) Stop();
  return Launch();
}

Status SshdHost::ReplaceHostKey() {
  FileSystem* fs = FileSystem::Real();
  fs->RemoveFile(root_ + "/host_key").IgnoreError();
  fs->RemoveFile(root_ + "/host_key.pub").IgnoreError();
  return Run("ssh-keygen -q -t ed25519 -N '' -f " + root_ + "/host_key");
}

std::vector<pid_t> SshdHost::SessionProcesses() const { return DescendantsOf(pid_); }

}  // namespace standby
