-- Flow control and triggers. Limits are copied onto each run at start, so a
-- claim needs nothing but the rows it looks at.
ALTER TABLE runs ADD COLUMN queue TEXT NOT NULL DEFAULT 'default';
ALTER TABLE runs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
-- Concurrency: at most `concurrency_limit` runs of (workflow, concurrency_key) running at once.
ALTER TABLE runs ADD COLUMN concurrency_key TEXT;
ALTER TABLE runs ADD COLUMN concurrency_limit INTEGER;
-- Rate limit: at most `rate_limit` runs of (workflow, rate_key) started per `rate_period_ms`.
ALTER TABLE runs ADD COLUMN rate_key TEXT;
ALTER TABLE runs ADD COLUMN rate_limit INTEGER;
ALTER TABLE runs ADD COLUMN rate_period_ms INTEGER;
-- A run over its concurrency limit waits here, unclaimable, until a run of its key stops running.
ALTER TABLE runs ADD COLUMN blocked_on TEXT;
ALTER TABLE runs ADD COLUMN debounce_key TEXT;
-- Scheduled runs: one per (schedule, slot), whatever the number of schedulers.
ALTER TABLE runs ADD COLUMN schedule_id TEXT;
ALTER TABLE runs ADD COLUMN slot_at INTEGER;
ALTER TABLE runs ADD COLUMN slot_end_at INTEGER;

CREATE UNIQUE INDEX runs_schedule_slot ON runs (schedule_id, slot_at) WHERE schedule_id IS NOT NULL;
CREATE INDEX runs_concurrency ON runs (workflow, concurrency_key, status) WHERE concurrency_limit IS NOT NULL;
CREATE INDEX runs_rate ON runs (workflow, rate_key, started_at) WHERE rate_limit IS NOT NULL;
CREATE INDEX runs_blocked_on ON runs (blocked_on) WHERE blocked_on IS NOT NULL;
CREATE INDEX runs_debounce ON runs (workflow, debounce_key) WHERE debounce_key IS NOT NULL AND status = 'queued';

CREATE TABLE paused_workflows (
  workflow TEXT PRIMARY KEY,
  paused_at INTEGER NOT NULL
);

-- Event triggers of the registered workflows, so any process accepting an event (even one
-- without the workflow's code) starts the subscribed workflows in the same transaction.
CREATE TABLE event_triggers (
  workflow TEXT NOT NULL,
  event TEXT NOT NULL,
  condition TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workflow, event, condition)
);
CREATE INDEX event_triggers_event ON event_triggers (event);

CREATE TABLE schedules (
  id TEXT PRIMARY KEY,
  workflow TEXT NOT NULL,
  cron TEXT NOT NULL,
  tz TEXT NOT NULL,
  input TEXT,
  overlap TEXT NOT NULL CHECK (overlap IN ('skip', 'queue', 'allow')),
  catchup TEXT NOT NULL CHECK (catchup IN ('none', 'latest', 'all')),
  paused INTEGER NOT NULL DEFAULT 0,
  -- The next slot not yet handled; slots before it have fired or been skipped per policy.
  next_at INTEGER NOT NULL,
  source TEXT NOT NULL DEFAULT 'api',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX schedules_next_at ON schedules (next_at) WHERE paused = 0;
