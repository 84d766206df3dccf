#include "testing/postgres.h"

#include <glob.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>

#include "base/strings.h"
#include "env/file_system.h"
#include "testing/s3rver.h"

namespace standby {
namespace {

std::string FindBinDir() {
  glob_t g{};
  std::string found;
  if (::glob("/usr/lib/postgresql/*/bin/initdb", 0, nullptr, &g) == 0 && g.gl_pathc > 0) {
    found = g.gl_pathv[g.gl_pathc - 1];
    found = found.substr(0, found.size() - std::string("/initdb").size());
  }
  ::globfree(&g);
  return found;
}

}  // namespace

Status PostgresServer::Run(const std::string& command) const {
  std::string quoted;  // `command` inside single quotes: each ' becomes '\''
  for (char c : command) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  std::string wrapped =
      ::geteuid() == 0 ? "runuser -u postgres -- sh -c '" + quoted + "'" : command;
  wrapped += " >>" + dir_ + "/commands.log 2>&1";
  int rc = std::system(wrapped.c_str());
  if (rc != 0)
    return UnavailableError("test PostgreSQL command failed (see " + dir_ +
                            "/commands.log): " + command);
  return OkStatus();
}

Result<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->bin_ = FindBinDir();
  if (server->bin_.empty())
    return NotFoundError("PostgreSQL server binaries not found; run scripts/setup.sh");
  std::string dir = "/tmp/standby-pg-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) return ErrnoError(errno, "mkdtemp");
  server->dir_ = dir;
  if (::geteuid() == 0) {
    struct passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) return NotFoundError("no postgres user to run the test server as");
    if (::chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) return ErrnoError(errno, "chown " + dir);
  }
  server->password_ = "pw-" + RandomHex(8);
  RETURN_IF_ERROR(server->Run("printf %s " + server->password_ + " > " + dir + "/pwfile"));
  RETURN_IF_ERROR(
      server->Run(server->bin_ + "/initdb -D " + dir + "/data -U standby --pwfile=" + dir +
                  "/pwfile --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-sync"));
  server->port_ = FreeLoopbackPort();
  RETURN_IF_ERROR(server->Restart());
  RETURN_IF_ERROR(server->Run(server->bin_ + "/createdb -h " + dir + " -p " +
                              std::to_string(server->port_) + " -U standby standby"));
  return server;
}

Status PostgresServer::Restart() {
  RETURN_IF_ERROR(Run(bin_ + "/pg_ctl -D " + dir_ + "/data -l " + dir_ +
                      "/server.log -w -t 30 -o \"-p " + std::to_string(port_) + " -k " + dir_ +
                      " -c listen_addresses=127.0.0.1 -c fsync=off\" start"));
  running_ = true;
  return OkStatus();
}

Status PostgresServer::Stop() {
  if (!running_) return OkStatus();
  running_ = false;
  return Run(bin_ + "/pg_ctl -D " + dir_ + "/data -m immediate -w stop");
}

Status PostgresServer::Psql(const std::string& sql, const std::string& database) const {
  return Run(bin_ + "/psql -h " + dir_ + " -p " + std::to_string(port_) + " -U standby -d " +
             database + " -v ON_ERROR_STOP=1 -c \"" + sql + "\"");
}

PostgresServer::~PostgresServer() {
  Stop().IgnoreError();
  if (!dir_.empty()) RemoveAll(FileSystem::Real(), dir_).IgnoreError();
}

std::string PostgresServer::url_with_password(const std::string& password) const {
  return "postgresql://standby:" + password + "@127.0.0.1:" + std::to_string(port_) + "/standby";
}

std::string PostgresServer::url() const { return url_with_password(password_); }

}  // namespace standby
