-- Idempotency windows: the run that holds each (workflow, key), and when it was created. The
-- primary key is what makes concurrent starts of one key agree: the insert that takes the
-- row creates its run, the others wait for it (ON CONFLICT) and return it. A row whose run
-- was created longer ago than a start's ttl, or was purged, is taken over by that start.
CREATE TABLE run_idempotency (
  workflow TEXT COLLATE "C" NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  run_id TEXT COLLATE "C" NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (workflow, key)
);
-- Purging a run deletes the key it held, found through this index.
CREATE INDEX run_idempotency_run ON run_idempotency (run_id);
