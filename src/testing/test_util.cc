#include "testing/test_util.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "env/file_system.h"

namespace standby {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/standby-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  path_ = tmpl;
}

TempDir::~TempDir() { RemoveAll(FileSystem::Real(), path_).IgnoreError(); }

void WriteFile(const std::string& path, const std::string& content, unsigned mode) {
  Status made = MakeDirs(FileSystem::Real(), std::string(ParentPath(path)));
  if (!made) ADD_FAILURE() << made.error().message;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  ::chmod(path.c_str(), mode);
}

std::string BuiltBinary(const std::string& name) {
  const char* build = std::getenv("STANDBY_BUILD_DIR");
  return std::string(build ? build : ".") + "/" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool MakeTestPki(const std::string& dir) {
  const std::string cmd =
      "cd '" + dir +
      "' && (openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
      "-subj /CN=standby-test-ca"
      " && openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
      "-subj /CN=localhost"
      " && printf 'subjectAltName=DNS:localhost\\n' > san.ext"
      " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
      "-out server.pem -days 2 -extfile san.ext"
      ") >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, size - i));
  }
  return out;
}

}  // namespace standby
