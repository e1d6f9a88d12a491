-- Workflows that some process has registered, so a process without their code (the API
-- server) can start them by name. Such runs wait unadmitted until a worker with the code
-- validates their input and computes their flow-control columns.
CREATE TABLE workflows (
  name TEXT PRIMARY KEY,
  seen_at INTEGER NOT NULL
);
ALTER TABLE runs ADD COLUMN admitted INTEGER NOT NULL DEFAULT 1;
CREATE INDEX runs_unadmitted ON runs (workflow, created_at) WHERE admitted = 0;

-- The order in which outcomes were delivered to the workflow: a replay follows it.
ALTER TABLE steps ADD COLUMN seq INTEGER;
