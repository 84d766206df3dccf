#pragma once

// One seed of the simulation (sim_run.h): the world, the harness that plays the scenario as
// a task of the world's scheduler, and the judge. Internal to tests/sim.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "failover/controller.h"
#include "failover/operations.h"
#include "tests/sim/sim_judge.h"
#include "tests/sim/sim_run.h"
#include "tests/sim/sim_world.h"

namespace standby::sim {

inline constexpr int64_t kSecond = 1'000'000'000;
inline constexpr auto kRound = std::chrono::seconds(2);
// Scenario events happen in the first kActiveS seconds; then every fault heals and the
// system must become quiet within kQuietBoundS more.
inline constexpr int64_t kActiveS = 200;
inline constexpr int64_t kQuietBoundS = 1800;

// A scenario event at a time (seconds after the controller starts).
struct Event {
  double at_s;
  std::string what;
  std::function<void()> apply;
};

// A controller process and the Controller it runs (kill -9: neither is ever destroyed).
struct Running {
  std::unique_ptr<Process> process;
  std::unique_ptr<Controller> controller;
  std::atomic<bool> stop{false};
  std::unique_ptr<Executor::Task> task;
};

class SeedRun {
 public:
  SeedRun(uint64_t seed, const SimOptions& options);
  SeedResult Run();

 private:
  // sim_run.cc: the run itself.
  void Harness();
  bool PlaceInstances();
  void StartController();
  void Kill();
  void StepHook();
  void Round();
  void Heal();
  void Account();
  SeedResult Finish();
  double Elapsed();
  int64_t NsAt(double s) const { return start_ns_ + static_cast<int64_t>(s * kSecond); }

  // sim_scenario.cc: what happens to the world and what operators do.
  ProtectionSpec Spec(const std::string& name);
  void DrawScenario();
  void DrawMainFailure(const std::string& name, double t0);
  void DrawNoise();
  void DrawOperators();
  SimHost* Primary(const std::string& name);
  void Fault(const std::string& name, double seconds, int kind);  // 0 hang, 1 reset, 2 cut off
  void KillPrimary(const std::string& name);
  void Request(const std::string& name, bool planned, bool no_stop, int count);
  void LatePlacement();
  void WatchMakeBeforeBreak();
  // The operator confirms the fences of old hosts that died for good (`fence confirm`).
  void ConfirmDeadFences();
  // `resume NAME`, tried again each round until it works (an operator retries).
  void Resume(const std::string& name);
  std::set<std::string> to_resume_;

  World w_;
  Judge judge_;
  const SimOptions options_;
  SeedResult result_;
  std::vector<std::string> names_;
  std::string late_;  // the instance placed by a `protect --provision` while serve runs
  std::map<std::string, bool> adopted_;
  std::map<std::string, bool> proceed_;
  std::unique_ptr<Process> cli_;  // the operator's commands
  std::unique_ptr<Running> controller_;
  std::vector<std::unique_ptr<Running>> killed_;
  // The `protect --provision` process of the late placement, and whether it was killed.
  std::unique_ptr<Process> late_process_;
  std::unique_ptr<Executor::Task> late_task_;
  bool late_killed_ = false;
  int generation_ = 0;
  int64_t restart_at_ns_ = -1;
  uint64_t kill_at_step_ = 0;
  std::string kill_in_phase_;  // a kill aimed at the next write of this phase
  int kills_left_ = 0;
  std::vector<Event> events_;
  size_t next_event_ = 0;
  int64_t start_ns_ = 0;
  bool healed_ = false;
  std::string violation_;
  // Requests the harness made: id → the process that must answer it (or "" if none took it).
  std::vector<std::string> requests_;
  std::map<std::string, std::string> no_stop_requests_;  // request → instance
};

}  // namespace standby::sim
