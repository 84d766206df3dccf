#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "base/result.h"
#include "env/loopback.h"

namespace standby {

// A real S3-compatible server for S3_ tests: the npm package s3rver (installed by
// scripts/setup.sh into ./node_modules), started with node on a free loopback port with a
// temporary data directory and one bucket, and stopped (with its data removed) on
// destruction. Its default credentials are S3RVER / S3RVER.
class S3rver {
 public:
  struct Options {
    std::string bucket = "standby-test";
    std::string tls_key;  // PEM paths: serve HTTPS when both are set
    std::string tls_cert;
  };
  static Result<std::unique_ptr<S3rver>> Start(const Options& options);
  static Result<std::unique_ptr<S3rver>> Start() { return Start(Options{}); }
  ~S3rver();

  int port() const { return port_; }
  std::string endpoint() const;  // "http://127.0.0.1:PORT" (https with TLS)
  const std::string& bucket() const { return bucket_; }
  const std::string& data_dir() const { return data_dir_; }

 private:
  S3rver() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  bool tls_ = false;
  std::string bucket_;
  std::string data_dir_;
};

// One s3rver for the whole test binary, started on first use (each test takes its own key
// prefix); null, with a test failure recorded, when it cannot start.
S3rver* SharedS3rver();

// The project's source directory (for node_modules and test tools).
std::string SourceDir();

}  // namespace standby
