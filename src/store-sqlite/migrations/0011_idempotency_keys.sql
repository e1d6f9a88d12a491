-- Idempotency windows: the run that holds each (workflow, key), and when it was created. The
-- primary key is what makes concurrent starts of one key agree: the insert that takes the
-- row creates its run, the others return it. A row whose run was created longer ago than a
-- start's ttl, or was purged, is taken over by that start.
CREATE TABLE run_idempotency (
  workflow TEXT NOT NULL,
  key TEXT NOT NULL,
  run_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workflow, key)
) WITHOUT ROWID;
-- Purging a run deletes the key it held, found through this index.
CREATE INDEX run_idempotency_run ON run_idempotency (run_id);
