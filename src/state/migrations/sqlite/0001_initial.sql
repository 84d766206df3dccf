-- standby state, version 1 (SQLite). Times are Unix milliseconds (UTC); 0 = not yet.
CREATE TABLE protected_instances (
  instance_id TEXT PRIMARY KEY,
  spec_json TEXT NOT NULL DEFAULT '{}',
  provider_instance_id TEXT NOT NULL DEFAULT '',
  ssh_host TEXT NOT NULL DEFAULT '',
  ssh_port INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'protected',
  last_snapshot_id TEXT NOT NULL DEFAULT '',
  last_snapshot_at INTEGER NOT NULL DEFAULT 0,
  consecutive_snapshot_failures INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  updated_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE provider_instances (
  provider TEXT NOT NULL,
  provider_instance_id TEXT NOT NULL,
  machine_id TEXT NOT NULL DEFAULT '',
  label TEXT NOT NULL DEFAULT '',
  purpose TEXT NOT NULL DEFAULT 'candidate',
  gpu_name TEXT NOT NULL DEFAULT '',
  price_per_hour REAL NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL DEFAULT 0,
  ready_at INTEGER NOT NULL DEFAULT 0,
  destroyed_at INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (provider, provider_instance_id)
);
CREATE TABLE snapshots (
  snapshot_id TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL,
  snapshot_type TEXT NOT NULL,
  base_snapshot_id TEXT NOT NULL DEFAULT '',
  files_total INTEGER NOT NULL DEFAULT 0,
  files_changed INTEGER NOT NULL DEFAULT 0,
  bytes_total INTEGER NOT NULL DEFAULT 0,
  bytes_uploaded INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL DEFAULT 0,
  compression TEXT NOT NULL DEFAULT '',
  duration_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX snapshots_by_instance ON snapshots (instance_id, created_at);
CREATE TABLE provisioning_attempts (
  attempt_id TEXT PRIMARY KEY,
  failover_id TEXT NOT NULL DEFAULT '',
  provider TEXT NOT NULL,
  offer_id TEXT NOT NULL DEFAULT '',
  machine_id TEXT NOT NULL DEFAULT '',
  provider_instance_id TEXT NOT NULL DEFAULT '',
  launched_at INTEGER NOT NULL DEFAULT 0,
  ready_ms INTEGER NOT NULL DEFAULT -1,
  censored_ms INTEGER NOT NULL DEFAULT -1,
  outcome TEXT NOT NULL DEFAULT '',
  rate_limit_hits INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX provisioning_attempts_by_provider ON provisioning_attempts (provider, launched_at);
CREATE TABLE machine_blacklist (
  machine_id TEXT PRIMARY KEY,
  reason TEXT NOT NULL DEFAULT '',
  until INTEGER NOT NULL
);
CREATE TABLE failover_events (
  failover_id TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL,
  "trigger" TEXT NOT NULL,
  started_at INTEGER NOT NULL DEFAULT 0,
  completed_at INTEGER NOT NULL DEFAULT 0,
  success INTEGER NOT NULL DEFAULT 0,
  failure_phase TEXT NOT NULL DEFAULT '',
  failure_reason TEXT NOT NULL DEFAULT '',
  detection_ms INTEGER NOT NULL DEFAULT 0,
  gpu_provisioning_time_ms INTEGER NOT NULL DEFAULT 0,
  snapshot_ms INTEGER NOT NULL DEFAULT 0,
  restore_ms INTEGER NOT NULL DEFAULT 0,
  validation_ms INTEGER NOT NULL DEFAULT 0,
  workload_start_ms INTEGER NOT NULL DEFAULT 0,
  health_check_ms INTEGER NOT NULL DEFAULT 0,
  total_ms INTEGER NOT NULL DEFAULT 0,
  original_ssh_host TEXT NOT NULL DEFAULT '',
  original_ssh_port INTEGER NOT NULL DEFAULT 0,
  snapshot_id TEXT NOT NULL DEFAULT '',
  snapshot_type TEXT NOT NULL DEFAULT '',
  base_snapshot_id TEXT NOT NULL DEFAULT '',
  files_changed INTEGER NOT NULL DEFAULT 0,
  new_instance_id TEXT NOT NULL DEFAULT '',
  new_ssh_host TEXT NOT NULL DEFAULT '',
  new_ssh_port INTEGER NOT NULL DEFAULT 0,
  gpu_name TEXT NOT NULL DEFAULT '',
  candidates_launched INTEGER NOT NULL DEFAULT 0,
  rounds INTEGER NOT NULL DEFAULT 0,
  rate_limit_hits INTEGER NOT NULL DEFAULT 0,
  files_restored INTEGER NOT NULL DEFAULT 0,
  files_expected INTEGER NOT NULL DEFAULT 0,
  bytes_restored INTEGER NOT NULL DEFAULT 0,
  phase_timings TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX failover_events_by_instance ON failover_events (instance_id, started_at);
