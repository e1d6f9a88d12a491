-- Poison runs: how many takeovers in a row found the journal as the previous claim left it
-- (each one a worker that died mid-run), and the journal's length at the last claim.
ALTER TABLE runs ADD COLUMN crash_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN claimed_journal_len INTEGER NOT NULL DEFAULT 0;
