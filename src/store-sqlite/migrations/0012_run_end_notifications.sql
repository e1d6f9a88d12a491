-- Run end notifications: nothing to create here. SQLite has no LISTEN/NOTIFY; a process
-- waiting for runs that end elsewhere watches the database file for other connections'
-- commits instead (see data-version-watch.ts). The number keeps both stores' migrations in
-- step with PostgreSQL's, whose 0012 adds the trigger that announces each run's end.
SELECT 1;
