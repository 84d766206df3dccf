-- standby state, version 2: the failover controller. Protected instances carry their host,
-- state and lease (for several controllers on one database); a failover row is written as
-- its phases advance (in-flight rows have completed_at = 0); operators' requests wait in
-- requests for the controller; controllers report they are alive; one vocabulary for race
-- outcomes.
ALTER TABLE protected_instances ADD COLUMN provider TEXT NOT NULL DEFAULT '';
ALTER TABLE protected_instances ADD COLUMN ssh_user TEXT NOT NULL DEFAULT '';
ALTER TABLE protected_instances ADD COLUMN machine_id TEXT NOT NULL DEFAULT '';
ALTER TABLE protected_instances ADD COLUMN gpu_name TEXT NOT NULL DEFAULT '';
ALTER TABLE protected_instances ADD COLUMN price_per_hour DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE protected_instances ADD COLUMN failovers INTEGER NOT NULL DEFAULT 0;
ALTER TABLE protected_instances ADD COLUMN last_failover_id TEXT NOT NULL DEFAULT '';
ALTER TABLE protected_instances ADD COLUMN last_mttr_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE protected_instances ADD COLUMN health_detail TEXT NOT NULL DEFAULT '';
ALTER TABLE protected_instances ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE protected_instances ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE protected_instances ADD COLUMN lease_expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE protected_instances ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;
UPDATE protected_instances SET status = 'healthy' WHERE status = 'protected';

ALTER TABLE provider_instances ADD COLUMN instance_id TEXT NOT NULL DEFAULT '';
ALTER TABLE provider_instances ADD COLUMN controller TEXT NOT NULL DEFAULT '';

ALTER TABLE failover_events ADD COLUMN phase TEXT NOT NULL DEFAULT 'done';
ALTER TABLE failover_events ADD COLUMN progress DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE failover_events ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE failover_events ADD COLUMN planned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE failover_events ADD COLUMN provider TEXT NOT NULL DEFAULT '';
ALTER TABLE failover_events ADD COLUMN original_instance_id TEXT NOT NULL DEFAULT '';
ALTER TABLE failover_events ADD COLUMN original_machine_id TEXT NOT NULL DEFAULT '';
ALTER TABLE failover_events ADD COLUMN original_ssh_user TEXT NOT NULL DEFAULT '';
ALTER TABLE failover_events ADD COLUMN first_failure_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE failover_events ADD COLUMN detected_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE failover_events ADD COLUMN fence TEXT NOT NULL DEFAULT '';
ALTER TABLE failover_events ADD COLUMN new_machine_id TEXT NOT NULL DEFAULT '';
ALTER TABLE failover_events ADD COLUMN new_ssh_user TEXT NOT NULL DEFAULT '';
ALTER TABLE failover_events ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE failover_events ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE failover_events ADD COLUMN controller TEXT NOT NULL DEFAULT '';
CREATE INDEX failover_events_unfinished ON failover_events (completed_at);

CREATE TABLE requests (
  request_id TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  planned INTEGER NOT NULL DEFAULT 0,
  "trigger" TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL DEFAULT 0,
  taken_at BIGINT NOT NULL DEFAULT 0,
  taken_by TEXT NOT NULL DEFAULT '',
  failover_id TEXT NOT NULL DEFAULT '',
  result TEXT NOT NULL DEFAULT ''
);
CREATE INDEX requests_pending ON requests (taken_at, created_at);

CREATE TABLE controllers (
  controller TEXT PRIMARY KEY,
  pid BIGINT NOT NULL DEFAULT 0,
  hostname TEXT NOT NULL DEFAULT '',
  started_at BIGINT NOT NULL DEFAULT 0,
  heartbeat_at BIGINT NOT NULL DEFAULT 0,
  probe_interval_ms BIGINT NOT NULL DEFAULT 0,
  api_url TEXT NOT NULL DEFAULT ''
);

UPDATE provisioning_attempts SET outcome = 'lost' WHERE outcome = 'lost_race';
UPDATE provisioning_attempts SET outcome = 'timed_out' WHERE outcome = 'timeout';
UPDATE provisioning_attempts SET outcome = 'create_failed' WHERE outcome = 'launch_failed';
