-- Workflow versions: the version of the workflow's code a run started with. Workers claim
-- only the versions they have; runs from before versions existed are version 1.
ALTER TABLE runs ADD COLUMN workflow_version INTEGER NOT NULL DEFAULT 1;
