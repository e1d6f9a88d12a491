-- What the web UI reads besides runs and journals: step logs, live workers, what each event
-- started or woke, run tags. (Twin of store-sqlite's.)

-- Log lines of workflows and steps. `seq` orders them across the whole table, so a reader
-- pages (and follows) a run's logs with `seq > last seen`. No foreign key: its check would
-- take a share lock on the run row, which journal commits lock for update (a log batch
-- covering several runs could then deadlock with them); retention deletes the lines.
CREATE TABLE step_logs (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id TEXT COLLATE "C" NOT NULL,
  step_key TEXT COLLATE "C",
  attempt INTEGER,
  level TEXT NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
  message TEXT NOT NULL,
  fields TEXT,
  at BIGINT NOT NULL,
  truncated BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX step_logs_run_seq ON step_logs (run_id, seq);

-- One row per live worker process, refreshed by its heartbeat; a row past `expires_at`
-- (several missed beats) is a worker that is gone.
CREATE TABLE workers (
  id TEXT COLLATE "C" PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  queues TEXT NOT NULL,
  workflows TEXT NOT NULL,
  concurrency INTEGER NOT NULL,
  started_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);

-- The runs an accepted event started (its triggers) or woke (waits it resolved).
CREATE TABLE event_runs (
  event_id TEXT COLLATE "C" NOT NULL,
  relation TEXT NOT NULL CHECK (relation IN ('started', 'woke')),
  run_id TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (event_id, relation, run_id)
);

-- Run tags (`key:value`), searchable by key and value.
CREATE TABLE run_tags (
  run_id TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE INDEX run_tags_key_value ON run_tags (key, value, run_id);
