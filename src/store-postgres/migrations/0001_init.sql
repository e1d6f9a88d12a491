-- The PostgreSQL twin of store-sqlite/migrations/0001_init.sql: same tables, columns,
-- constraints and indexes. Adapted types: times are BIGINT ms since the epoch (passed as
-- parameters, never now()), payloads are TEXT (jsonb rejects \u0000), identifiers and
-- names use the "C" collation so that they sort byte-wise, as in SQLite.

-- Runs: one row per run. `available_at` is when the run can next be claimed
-- (queued: now, waiting: wake time, running: lease expiry, terminal: NULL), so one
-- partial index serves claims, timers and expired leases alike.
CREATE TABLE runs (
  id TEXT COLLATE "C" PRIMARY KEY,
  workflow TEXT COLLATE "C" NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'waiting', 'completed', 'failed', 'cancelled')),
  input TEXT,
  output TEXT,
  error TEXT,
  parent_id TEXT COLLATE "C",
  parent_position INTEGER,
  depth INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  updated_at BIGINT NOT NULL,
  available_at BIGINT,
  deadline_at BIGINT,
  lease_owner TEXT,
  fencing_token BIGINT NOT NULL DEFAULT 0
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
  run_id TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('completed', 'failed', 'retrying', 'waiting')),
  output TEXT,
  error TEXT,
  attempt INTEGER NOT NULL DEFAULT 1,
  started_at BIGINT,
  finished_at BIGINT,
  wake_at BIGINT,
  detail TEXT,
  event_id TEXT COLLATE "C",
  PRIMARY KEY (run_id, position),
  UNIQUE (run_id, key)
);

-- Waits that outside input resolves: events (by name) and signals (by run).
CREATE TABLE waits (
  run_id TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('event', 'signal')),
  name TEXT COLLATE "C" NOT NULL,
  match TEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (run_id, position)
);
CREATE INDEX waits_kind_name ON waits (kind, name);

-- `seq` is SQLite's implicit rowid made explicit: buffered events are read in arrival order.
CREATE TABLE events (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL,
  data TEXT,
  created_at BIGINT NOT NULL,
  seq BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX events_name_created_at ON events (name, created_at);

CREATE TABLE signals (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name TEXT COLLATE "C" NOT NULL,
  payload TEXT,
  created_at BIGINT NOT NULL,
  consumed_at BIGINT
);
CREATE INDEX signals_pending ON signals (run_id, name, seq) WHERE consumed_at IS NULL;
-- PostgreSQL does not index referencing columns by itself: without this, deleting a run
-- (retention, ON DELETE CASCADE) would scan all of `signals`.
CREATE INDEX signals_run_id ON signals (run_id);

-- API tokens: only a hash of the secret is stored.
CREATE TABLE api_tokens (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  secret_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT,
  last_used_at BIGINT
);
