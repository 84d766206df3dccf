#include "testing/s3rver.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "env/file_system.h"
#include "testing/child_process.h"

namespace standby {

std::string SourceDir() { return STANDBY_SOURCE_DIR; }

Result<std::unique_ptr<S3rver>> S3rver::Start(const Options& options) {
  std::unique_ptr<S3rver> server(new S3rver());
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp ? tmp : "/tmp") + "/standby-s3rver-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) return ErrnoError(errno, "mkdtemp");
  server->data_dir_ = dir;
  server->bucket_ = options.bucket;
  server->port_ = FreeLoopbackPort();
  server->tls_ = !options.tls_cert.empty();
  std::string script = SourceDir() + "/node_modules/s3rver/bin/s3rver.js";
  if (!FileSystem::Real()->Lstat(script)) {
    return NotFoundError("s3rver is not installed at " + script + "; run scripts/setup.sh");
  }
  std::vector<std::string> args = {"node",
                                   "--openssl-legacy-provider",
                                   script,
                                   "-d",
                                   dir,
                                   "-a",
                                   "127.0.0.1",
                                   "-p",
                                   std::to_string(server->port_),
                                   "--silent",
                                   "--configure-bucket",
                                   options.bucket};
  if (server->tls_) {
    args.insert(args.end(), {"--key", options.tls_key, "--cert", options.tls_cert});
  }
  ASSIGN_OR_RETURN(server->pid_, SpawnChild(args));
  if (!WaitForPort(server->port_, 20000)) {
    return UnavailableError("s3rver did not listen on port " + std::to_string(server->port_));
  }
  return server;
}

S3rver::~S3rver() {
  StopChild(pid_);
  if (!data_dir_.empty()) RemoveAll(FileSystem::Real(), data_dir_).IgnoreError();
}

std::string S3rver::endpoint() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

S3rver* SharedS3rver() {
  static std::unique_ptr<S3rver> server = [] {
    auto started = S3rver::Start();
    if (!started) ADD_FAILURE() << started.error().message;
    return started ? std::move(*started) : nullptr;
  }();
  return server.get();
}

}  // namespace standby
