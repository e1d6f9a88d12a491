-- What the web UI reads besides runs and journals: step logs, live workers, what each event
-- started or woke, run tags.

-- Log lines of workflows and steps. `seq` orders them across the whole table, so a reader
-- pages (and follows) a run's logs with `seq > last seen`.
CREATE TABLE step_logs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step_key TEXT,
  attempt INTEGER,
  level TEXT NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
  message TEXT NOT NULL,
  fields TEXT,
  at INTEGER NOT NULL,
  truncated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX step_logs_run_seq ON step_logs (run_id, seq);

-- One row per live worker process, refreshed by its heartbeat; a row past `expires_at`
-- (several missed beats) is a worker that is gone.
CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  queues TEXT NOT NULL,
  workflows TEXT NOT NULL,
  concurrency INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);

-- The runs an accepted event started (its triggers) or woke (waits it resolved).
CREATE TABLE event_runs (
  event_id TEXT NOT NULL,
  relation TEXT NOT NULL CHECK (relation IN ('started', 'woke')),
  run_id TEXT NOT NULL,
  PRIMARY KEY (event_id, relation, run_id)
);

-- Run tags (`key:value`), searchable by key and value.
CREATE TABLE run_tags (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE INDEX run_tags_key_value ON run_tags (key, value, run_id);
