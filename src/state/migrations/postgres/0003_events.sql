-- standby state, version 3: the event log behind GET /api/v1/events. Ids only grow (a
-- sequence never reuses one, even after pruning), so a client that reconnects with the
-- last id it saw gets what it missed.
CREATE TABLE events (
  id BIGSERIAL PRIMARY KEY,
  at BIGINT NOT NULL,
  instance_id TEXT NOT NULL DEFAULT '',
  type TEXT NOT NULL,
  data_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_at ON events (at);
