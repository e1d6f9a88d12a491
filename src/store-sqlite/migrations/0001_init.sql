-- Runs: one row per run. `available_at` is when the run can next be claimed
-- (queued: now, waiting: wake time, running: lease expiry, terminal: NULL), so one
-- partial index serves claims, timers and expired leases alike.
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  workflow TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'waiting', 'completed', 'failed', 'cancelled')),
  input TEXT,
  output TEXT,
  error TEXT,
  parent_id TEXT,
  parent_position INTEGER,
  depth INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  updated_at INTEGER NOT NULL,
  available_at INTEGER,
  deadline_at INTEGER,
  lease_owner TEXT,
  fencing_token INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_available_at ON runs (available_at) WHERE available_at IS NOT NULL;
CREATE INDEX runs_created_at ON runs (created_at, id);
CREATE INDEX runs_workflow_created_at ON runs (workflow, created_at, id);
CREATE INDEX runs_status_created_at ON runs (status, created_at, id);
CREATE INDEX runs_parent_id ON runs (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX runs_finished_at ON runs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX runs_updated_at ON runs (updated_at);

-- The journal: one row per position a run reached (a step, a sleep, a wait, a child,
-- a journaled now/random/uuid). The key is unique too: one recorded outcome per step.
CREATE TABLE steps (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  key TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('completed', 'failed', 'retrying', 'waiting')),
  output TEXT,
  error TEXT,
  attempt INTEGER NOT NULL DEFAULT 1,
  started_at INTEGER,
  finished_at INTEGER,
  wake_at INTEGER,
  detail TEXT,
  event_id TEXT,
  PRIMARY KEY (run_id, position),
  UNIQUE (run_id, key)
) WITHOUT ROWID;

-- Waits that outside input resolves: events (by name) and signals (by run).
CREATE TABLE waits (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('event', 'signal')),
  name TEXT NOT NULL,
  match TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, position)
) WITHOUT ROWID;
CREATE INDEX waits_kind_name ON waits (kind, name);

CREATE TABLE events (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  data TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX events_name_created_at ON events (name, created_at);

CREATE TABLE signals (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  payload TEXT,
  created_at INTEGER NOT NULL,
  consumed_at INTEGER
);
CREATE INDEX signals_pending ON signals (run_id, name, seq) WHERE consumed_at IS NULL;

-- API tokens: only a hash of the secret is stored.
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  secret_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  last_used_at INTEGER
);
