-- The processes listening for commits to this file, each on a UDP port of the loopback
-- address (commit-doorbell.ts): a process whose commit others act on (runs to claim, runs
-- ended, requeued or cancelled) sends each of them a datagram, and they look for the commit
-- at once instead of at their next probe of the WAL, a millisecond later. SQLite has no
-- LISTEN/NOTIFY; this is the hint it lacks. `token` is the datagram a listener expects, so a
-- stray datagram on a reused port wakes nobody; `pid` lets a process that registers remove
-- the rows of processes that died.
CREATE TABLE commit_doorbells (
  port INTEGER PRIMARY KEY,
  token TEXT NOT NULL,
  pid INTEGER NOT NULL,
  since INTEGER NOT NULL
);
