#include "agent/in_process_hosts.h"

#include <signal.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>

#include "base/json_fields.h"
#include "env/file_system.h"
#include "remote/agent_channel.h"

namespace standby {
namespace {

// A store the host borrows: every host shares the test's store, and a dead host reaches it
// no more (a job of a killed host cannot finish behind the controller's back).
class BorrowedStore : public ObjectStore {
 public:
  BorrowedStore(ObjectStore* inner, std::function<bool()> alive)
      : inner_(inner), alive_(std::move(alive)) {}
  std::string Url() const override { return inner_->Url(); }
  Status Put(const std::string& key, std::string_view data) override {
    RETURN_IF_ERROR(Reachable());
    return inner_->Put(key, data);
  }
  Result<std::string> Get(const std::string& key, std::optional<ByteRange> range) override {
    RETURN_IF_ERROR(Reachable());
    return inner_->Get(key, range);
  }
  Result<ObjectInfo> Head(const std::string& key) override {
    RETURN_IF_ERROR(Reachable());
    return inner_->Head(key);
  }
  Status Delete(const std::string& key) override {
    RETURN_IF_ERROR(Reachable());
    return inner_->Delete(key);
  }
  Result<ListPage> List(const std::string& prefix, const std::string& token,
                        size_t max_keys) override {
    RETURN_IF_ERROR(Reachable());
    return inner_->List(prefix, token, max_keys);
  }
  size_t PreferredConcurrency() const override { return inner_->PreferredConcurrency(); }
  Counters RequestCounters() const override { return inner_->RequestCounters(); }

 private:
  Status Reachable() const {
    if (!alive_()) return UnavailableError("the host is dead");
    return OkStatus();
  }
  ObjectStore* inner_;
  std::function<bool()> alive_;
};

// The two ends of one job's streams.
struct Pipe {
  std::mutex mu;
  std::condition_variable changed;
  std::string stdin_text;
  bool stdin_closed = false;
  std::string out;
  bool exited = false;
  int exit_status = 0;
  bool lost = false;  // the host died: the connection is gone
  int events_sent = 0;
};

class InProcessChannel : public AgentChannel {
 public:
  InProcessChannel(std::shared_ptr<Pipe> pipe, std::string host, std::function<bool()> alive)
      : pipe_(std::move(pipe)), host_(std::move(host)), alive_(std::move(alive)) {}
  // The host side never waits for a job that will not come.
  ~InProcessChannel() override { Terminate(); }

  Status Write(std::string_view data) override {
    std::lock_guard<std::mutex> lock(pipe_->mu);
    if (pipe_->lost) return Lost();
    pipe_->stdin_text.append(data);
    pipe_->changed.notify_all();
    return OkStatus();
  }
  Status CloseStdin() override {
    std::lock_guard<std::mutex> lock(pipe_->mu);
    pipe_->stdin_closed = true;
    pipe_->changed.notify_all();
    return OkStatus();
  }
  Result<ChannelOutput> Read(std::chrono::milliseconds timeout) override {
    std::unique_lock<std::mutex> lock(pipe_->mu);
    pipe_->changed.wait_for(lock, timeout,
                            [&] { return pipe_->lost || !pipe_->out.empty() || pipe_->exited; });
    if (!pipe_->exited && !alive_()) {
      pipe_->lost = true;  // the host died under the job
      pipe_->changed.notify_all();
    }
    if (pipe_->lost) return Lost();
    ChannelOutput output;
    output.out.swap(pipe_->out);
    output.eof = pipe_->exited && output.out.empty();
    return output;
  }
  std::string Ending() override {
    std::lock_guard<std::mutex> lock(pipe_->mu);
    if (pipe_->lost) return "lost its connection";
    return "exited with status " + std::to_string(pipe_->exit_status);
  }
  void Terminate() override {
    std::lock_guard<std::mutex> lock(pipe_->mu);
    pipe_->stdin_closed = true;
    pipe_->changed.notify_all();
  }

 private:
  Error Lost() const {
    return UnavailableError("connection to in-process host " + host_ + " lost");
  }

  std::shared_ptr<Pipe> pipe_;
  std::string host_;
  std::function<bool()> alive_;
};

}  // namespace

class InProcessTransport : public AgentTransport {
 public:
  InProcessTransport(InProcessHosts* hosts, std::string key)
      : hosts_(hosts), key_(std::move(key)) {}

  Result<nlohmann::json> RunJob(const AgentJob& job,
                                const std::function<void(const AgentEvent&)>& on_event) override {
    auto pipe = std::make_shared<Pipe>();
    {
      std::lock_guard<std::mutex> lock(hosts_->mu_);
      InProcessHosts::Host& host = hosts_->hosts_[key_];
      if (host.dead) return UnavailableError("connect to in-process host " + key_ + ": refused");
      ++host.jobs;
      // Threads of finished jobs are joined as new jobs start, so they never pile up.
      for (auto it = hosts_->threads_.begin(); it != hosts_->threads_.end();) {
        if (it->finished->load()) {
          it->thread.join();
          it = hosts_->threads_.erase(it);
        } else {
          ++it;
        }
      }
      int die_after = host.die_after_events;
      host.die_after_events = -1;
      AgentEnv env = hosts_->EnvFor(key_);
      auto finished = std::make_shared<std::atomic<bool>>(false);
      std::thread job([pipe, env, die_after, finished, hosts = hosts_, key = key_] {
        auto read_line = [&]() -> Result<std::string> {
          std::unique_lock<std::mutex> lock(pipe->mu);
          pipe->changed.wait(lock, [&] {
            return pipe->stdin_closed || pipe->lost ||
                   pipe->stdin_text.find('\n') != std::string::npos;
          });
          if (pipe->lost) return UnavailableError("the connection was lost");
          size_t newline = pipe->stdin_text.find('\n');
          if (newline == std::string::npos) return UnavailableError("the input was closed");
          std::string line = pipe->stdin_text.substr(0, newline);
          pipe->stdin_text.erase(0, newline + 1);
          return line;
        };
        auto emit = [&](const nlohmann::json& event) {
          bool lose = !hosts->Alive(key);
          std::lock_guard<std::mutex> lock(pipe->mu);
          ++pipe->events_sent;
          if (lose || (die_after >= 0 && pipe->events_sent > die_after)) {
            if (die_after >= 0 && !pipe->lost) hosts->Kill(key);
            pipe->lost = true;
          }
          if (!pipe->lost) pipe->out += DumpJson(event) + "\n";
          pipe->changed.notify_all();
        };
        int status = RunAgentSession(read_line, emit, env, 1);
        {
          std::lock_guard<std::mutex> lock(pipe->mu);
          pipe->exited = true;
          pipe->exit_status = status;
          pipe->changed.notify_all();
        }
        *finished = true;
      });
      hosts_->threads_.push_back({std::move(job), finished});
    }
    InProcessChannel channel(pipe, key_,
                             [hosts = hosts_, key = key_] { return hosts->Alive(key); });
    ConversationOptions options = BaseOptions(hosts_->clock_);
    return RunAgentConversation(channel, job, on_event, options);
  }

 private:
  InProcessHosts* hosts_;
  std::string key_;
};

InProcessHosts::InProcessHosts(std::string root_dir, ObjectStore* store, Clock* clock)
    : root_dir_(std::move(root_dir)), store_(store), clock_(clock) {}

InProcessHosts::~InProcessHosts() {
  std::vector<JobThread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(threads_);
  }
  for (JobThread& t : threads) t.thread.join();
  KillWorkloadsUnder(root_dir_);  // the hosts die with their owner
}

void InProcessHosts::KillWorkloadsUnder(const std::string& dir) {
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().filename() != "workload.pid") continue;
    auto text = ReadFileToString(FileSystem::Real(), it->path().string());
    long pid = text ? std::atol(text->c_str()) : 0;
    if (pid > 1) ::kill(-static_cast<pid_t>(pid), SIGKILL);
  }
}

std::string InProcessHosts::KeyOf(const HostAddress& address) {
  return address.host + ":" + std::to_string(address.port);
}

std::string InProcessHosts::HostPath(const std::string& key, const std::string& path) const {
  std::string dir = key;
  for (char& c : dir) {
    if (c == ':' || c == '/') c = '_';
  }
  return JoinPath(root_dir_, dir) + path;
}

AgentEnv InProcessHosts::EnvFor(const std::string& key) const {
  AgentEnv env;
  // The host side runs real processes and real file I/O: real time, whatever clock the
  // controller side (the conversation) is on.
  env.clock = Clock::Real();
  env.fs = FileSystem::Real();
  env.root = HostPath(key);
  env.home = HostPath(key, "/root");
  ObjectStore* store = store_;
  env.open_store = [this, store, key](const AgentJob&,
                                      const S3Authorizer&) -> Result<std::unique_ptr<ObjectStore>> {
    return std::unique_ptr<ObjectStore>(
        std::make_unique<BorrowedStore>(store, [this, key] { return Alive(key); }));
  };
  return env;
}

std::unique_ptr<AgentTransport> InProcessHosts::Connect(const HostAddress& address) {
  std::string key = KeyOf(address);
  MakeDirs(FileSystem::Real(), HostPath(key, "/root"), 0700).IgnoreError();
  return std::make_unique<InProcessTransport>(this, key);
}

void InProcessHosts::Kill(const std::string& key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    hosts_[key].dead = true;
  }
  KillWorkloadsUnder(HostPath(key));
}

void InProcessHosts::Revive(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  hosts_[key].dead = false;
}

void InProcessHosts::DieDuringNextJob(const std::string& key, int events) {
  std::lock_guard<std::mutex> lock(mu_);
  hosts_[key].die_after_events = events;
}

bool InProcessHosts::Alive(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = hosts_.find(key);
  return it == hosts_.end() || !it->second.dead;
}

int InProcessHosts::JobsRun(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = hosts_.find(key);
  return it == hosts_.end() ? 0 : it->second.jobs;
}

}  // namespace standby
