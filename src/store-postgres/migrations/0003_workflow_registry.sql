-- Workflows that some process has registered, so a process without their code (the API
-- server) can start them by name. Such runs wait unadmitted until a worker with the code
-- validates their input and computes their flow-control columns. (Twin of store-sqlite's.)
CREATE TABLE workflows (
  name TEXT COLLATE "C" PRIMARY KEY,
  seen_at BIGINT NOT NULL
);
ALTER TABLE runs ADD COLUMN admitted BOOLEAN NOT NULL DEFAULT TRUE;
CREATE INDEX runs_unadmitted ON runs (workflow, created_at) WHERE NOT admitted;

-- The order in which outcomes were delivered to the workflow: a replay follows it.
ALTER TABLE steps ADD COLUMN seq INTEGER;
