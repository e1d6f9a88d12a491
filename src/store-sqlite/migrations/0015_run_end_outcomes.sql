-- Run end outcomes: nothing to create here. PostgreSQL's 0015 puts a run's outcome in the
-- notification of its end; SQLite announces nothing, and the process that finds an awaited
-- run ended reads its outcome in the same read (ended-runs-reader.ts). The number keeps both
-- stores' migrations in step.
SELECT 1;
