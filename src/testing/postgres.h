#pragma once

#include <memory>
#include <string>

#include "base/result.h"

namespace standby {

// A throwaway PostgreSQL cluster for PG_ tests: initdb into a temporary directory (as the
// unprivileged `postgres` user when run as root, since the server refuses root), pg_ctl
// start on a free loopback port with password (SCRAM) authentication over TCP, and a
// database "standby" owned by user "standby". Stopped and removed on destruction.
class PostgresServer {
 public:
  static Result<std::unique_ptr<PostgresServer>> Start();
  ~PostgresServer();

  std::string url() const;  // postgresql://standby:PASSWORD@127.0.0.1:PORT/standby
  std::string url_with_password(const std::string& password) const;
  const std::string& password() const { return password_; }
  int port() const { return port_; }
  // Stops the server (immediate shutdown) and starts it again on the same port.
  Status Stop();
  Status Restart();
  // Runs SQL as the superuser through psql on the server's socket.
  Status Psql(const std::string& sql, const std::string& database = "standby") const;

 private:
  PostgresServer() = default;
  Status Run(const std::string& command) const;  // as the server's user
  std::string bin_;
  std::string dir_;
  std::string password_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace standby
