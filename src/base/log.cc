#include "base/log.h"

#include <spdlog/sinks/base_sink.h>

#include <cstdio>
#include <mutex>
#include <set>

namespace standby {
namespace {

std::mutex& SecretsMutex() {
  static std::mutex mu;
  return mu;
}

// Longest first, so a secret that contains another is replaced whole.
struct LongestFirst {
  bool operator()(const std::string& a, const std::string& b) const {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  }
};

std::set<std::string, LongestFirst>& Secrets() {
  static std::set<std::string, LongestFirst> secrets;
  return secrets;
}

class RedactingStderrSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string line;
    if (msg.level >= spdlog::level::err) {
      line = "error: ";
    } else if (msg.level == spdlog::level::warn) {
      line = "warning: ";
    } else if (msg.level <= spdlog::level::debug) {
      line = "debug: ";
    }
    line.append(msg.payload.data(), msg.payload.size());
    line = Redact(line);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

spdlog::level::level_enum ToSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarning:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

void InitLogging(LogLevel level) {
  auto logger =
      std::make_shared<spdlog::logger>("standby", std::make_shared<RedactingStderrSink>());
  logger->set_level(ToSpdlog(level));
  spdlog::set_default_logger(logger);
}

bool ParseLogLevel(std::string_view text, LogLevel* level) {
  if (text == "debug") {
    *level = LogLevel::kDebug;
  } else if (text == "info") {
    *level = LogLevel::kInfo;
  } else if (text == "warning" || text == "warn") {
    *level = LogLevel::kWarning;
  } else if (text == "error") {
    *level = LogLevel::kError;
  } else if (text == "off") {
    *level = LogLevel::kOff;
  } else {
    return false;
  }
  return true;
}

void RegisterSecret(std::string_view value) {
  if (value.size() < 4) return;
  std::lock_guard<std::mutex> lock(SecretsMutex());
  Secrets().emplace(value);
}

std::string Redact(std::string_view text) {
  std::string out(text);
  std::lock_guard<std::mutex> lock(SecretsMutex());
  for (const std::string& secret : Secrets()) {
    size_t pos = 0;
    while ((pos = out.find(secret, pos)) != std::string::npos) {
      out.replace(pos, secret.size(), "***");
      pos += 3;
    }
  }
  return out;
}

}  // namespace standby
