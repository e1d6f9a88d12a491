-- Doorbell admissions: nothing to change here. The SQLite store's 0016 marks which of its
-- listening processes admit runs, so that a ring for runs awaiting admission goes to those
-- alone; PostgreSQL's notifications say the same in their payload. The number keeps both
-- stores' migrations in step.
SELECT 1;
