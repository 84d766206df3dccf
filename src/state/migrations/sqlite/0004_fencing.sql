-- standby state, version 4: exact fencing and ownership. A destroy the provider did not
-- confirm keeps its ownership row with destroy_pending_at set, and is retried until it is
-- confirmed; a failover is claimed by the process running it until claim_expires_at (renewed
-- while it runs; only an expired claim is adopted by another process); how and when the old
-- host was fenced, whether that is still pending, and a planned move's pause are recorded.
ALTER TABLE provider_instances ADD COLUMN destroy_pending_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE provider_instances ADD COLUMN destroy_error TEXT NOT NULL DEFAULT '';

ALTER TABLE failover_events ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE failover_events ADD COLUMN claim_expires_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE failover_events ADD COLUMN fenced_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE failover_events ADD COLUMN fence_detail TEXT NOT NULL DEFAULT '';
ALTER TABLE failover_events ADD COLUMN no_stop INTEGER NOT NULL DEFAULT 0;
ALTER TABLE failover_events ADD COLUMN workload_stopped_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE failover_events ADD COLUMN pause_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE failover_events ADD COLUMN retry_of TEXT NOT NULL DEFAULT '';
ALTER TABLE failover_events ADD COLUMN leftovers_pending INTEGER NOT NULL DEFAULT 0;
CREATE INDEX failover_events_fence ON failover_events (fence);
ALTER TABLE requests ADD COLUMN no_stop INTEGER NOT NULL DEFAULT 0;
