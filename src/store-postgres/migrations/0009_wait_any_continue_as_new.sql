-- ctx.waitForAny: one journal position waits for several events and signals at once, one
-- `waits` row per alternative. `alt` numbers them from 1; 0 is a wait with one alternative
-- (waitForEvent, waitForSignal). The store records a waitForAny outcome as
-- `{ kind, name, data }` when the row it resolves has `alt` > 0.
ALTER TABLE waits ADD COLUMN alt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE waits DROP CONSTRAINT waits_pkey;
ALTER TABLE waits ADD PRIMARY KEY (run_id, position, alt);

-- ctx.continueAsNew: a run that continued as a new run links to its successor, and the
-- successor back to it (one lineage, each journal short).
ALTER TABLE runs ADD COLUMN continued_from TEXT COLLATE "C";
ALTER TABLE runs ADD COLUMN continued_to TEXT COLLATE "C";
