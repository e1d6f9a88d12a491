-- Claims and the next wake-up look for due runs of the queues and workflows a worker serves.
-- On an index of `available_at` alone they stepped over every due run of every other queue,
-- workflow or paused workflow. Keyed by queue and workflow first, a claim reads only the
-- runs it may take.
DROP INDEX runs_available_at;
CREATE INDEX runs_claimable ON runs (queue, workflow, available_at) WHERE available_at IS NOT NULL;
-- The admission pass of a worker (`pendingAdmission`) looks for unadmitted runs of its
-- workflows, oldest first. Keyed by workflow, several workflows' runs had to be read whole and
-- sorted (and SQLite walked every queued run by status instead, admitted ones too); in order
-- of creation alone the pass stops at its batch.
DROP INDEX runs_unadmitted;
CREATE INDEX runs_unadmitted ON runs (created_at) WHERE NOT admitted;
-- Whether a due schedule has a run still active (its overlap policy) was read from every run
-- the schedule ever made that retention kept: 200,000 finished runs of a per-second schedule
-- cost each firing 83 ms on SQLite. The active runs of schedules have their own index.
CREATE INDEX runs_schedule_active ON runs (schedule_id)
  WHERE schedule_id IS NOT NULL AND status NOT IN ('completed', 'failed', 'cancelled');
