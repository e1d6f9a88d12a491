-- ctx.waitForAny: one journal position waits for several events and signals at once, one
-- `waits` row per alternative. `alt` numbers them from 1; 0 is a wait with one alternative
-- (waitForEvent, waitForSignal). The store records a waitForAny outcome as
-- `{ kind, name, data }` when the row it resolves has `alt` > 0.
CREATE TABLE waits_new (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  alt INTEGER NOT NULL DEFAULT 0,
  kind TEXT NOT NULL CHECK (kind IN ('event', 'signal')),
  name TEXT NOT NULL,
  match TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, position, alt)
) WITHOUT ROWID;
INSERT INTO waits_new (run_id, position, alt, kind, name, match, created_at)
  SELECT run_id, position, 0, kind, name, match, created_at FROM waits;
DROP TABLE waits;
ALTER TABLE waits_new RENAME TO waits;
CREATE INDEX waits_kind_name ON waits (kind, name);

-- ctx.continueAsNew: a run that continued as a new run links to its successor, and the
-- successor back to it (one lineage, each journal short).
ALTER TABLE runs ADD COLUMN continued_from TEXT;
ALTER TABLE runs ADD COLUMN continued_to TEXT;
