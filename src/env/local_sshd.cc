#include "env/local_sshd.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include "env/child_process_env.h"
#include "env/file_system.h"

namespace standby {

Status PrepareLocalSshd(const LocalSshdConfig& c) {
  FileSystem* fs = FileSystem::Real();
  RETURN_IF_ERROR(MakeDirs(fs, c.dir, 0700));
  RETURN_IF_ERROR(MakeDirs(fs, c.home, 0755));
  if (!fs->Lstat(c.dir + "/host_key")) {
    auto keygen =
        RunProgram({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", c.dir + "/host_key"});
    if (!keygen || *keygen != 0) {
      return UnavailableError("ssh-keygen failed for " + c.dir + " (is openssh-client installed?)");
    }
  }
  if (::geteuid() == 0) RETURN_IF_ERROR(MakeDirs(fs, "/run/sshd", 0755));  // privilege separation
  RETURN_IF_ERROR(
      WriteFileAtomically(fs, c.dir + "/authorized_keys", c.authorized_key + "\n", 0600));
  std::ostringstream config;
  config << "Port " << c.port << "\nListenAddress 127.0.0.1\n"
         << "HostKey " << c.dir << "/host_key\n"
         << "AuthorizedKeysFile " << c.dir << "/authorized_keys\n"
         << "PidFile " << c.dir << "/sshd.pid\n"
         << "UsePAM no\nStrictModes no\nPasswordAuthentication no\n"
         << "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
         << "Subsystem sftp /usr/lib/openssh/sftp-server -d " << c.home << "\n"
         << "SetEnv HOME=" << c.home << "\n"
         << "MaxStartups 100\nMaxSessions 100\nLogLevel VERBOSE\n";
  return WriteFileAtomically(fs, c.dir + "/sshd_config", config.str(), 0644);
}

std::vector<std::string> LocalSshdCommand(const std::string& dir) {
  return {"/usr/sbin/sshd", "-D", "-e", "-f", dir + "/sshd_config"};
}

std::vector<pid_t> DescendantsOf(pid_t root) {
  std::map<pid_t, pid_t> parent_of;
  auto entries = FileSystem::Real()->ListDir("/proc");
  if (!entries) return {};
  for (const std::string& name : *entries) {
    pid_t pid = std::atoi(name.c_str());
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + name + "/stat");
    std::string line;
    std::getline(stat, line);
    size_t close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size()) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    parent_of[pid] = ppid;
  }
  std::vector<pid_t> out;
  for (const auto& [pid, ppid] : parent_of) {
    int depth = 0;
    for (pid_t up = ppid; up > 1 && depth < 64; ++depth) {
      if (up == root) {
        out.push_back(pid);
        break;
      }
      auto it = parent_of.find(up);
      up = it == parent_of.end() ? 0 : it->second;
    }
  }
  return out;
}

void KillProcessTree(pid_t root) {
  if (root <= 1) return;
  ::kill(root, SIGSTOP);  // no new children while the tree is collected
  for (pid_t pid : DescendantsOf(root)) ::kill(pid, SIGKILL);
  ::kill(root, SIGKILL);
}

}  // namespace standby
