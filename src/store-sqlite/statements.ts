import type Database from "better-sqlite3";

/**
 * The run's next delivery sequence number, for an outcome the store resolves. A running
 * run may hold numbers in memory not yet written: its outcome is numbered at the next
 * claim instead (see `unnumbered`).
 */
const nextSeq = `seq = CASE WHEN (SELECT status FROM runs WHERE id = steps.run_id) = 'running' THEN NULL
  ELSE (SELECT coalesce(max(s.seq), 0) + 1 FROM steps s WHERE s.run_id = steps.run_id) END`;

/**
 * The SQL of every statement the store runs more than once.
 *
 * Limits are written `LIMIT (SELECT ?)`, never `LIMIT ?`: measured on SQLite 3.53, a bare
 * bound LIMIT made each execution of a prepared statement cost about 20 µs more (the claim
 * and admission checks run on every pass of every worker).
 */
const statementSql = {
  // `RETURNING *` is not used where it runs per run: measured on SQLite 3.53 it made the
  // insert of a run 33 µs against 18 µs for `RETURNING id` and a read of the row by its key.
  insertRun: `INSERT INTO runs (id, workflow, status, input, parent_id, parent_position, depth,
        created_at, started_at, updated_at, available_at, deadline_at, lease_owner, fencing_token,
        queue, priority, concurrency_key, concurrency_limit, rate_key, rate_limit, rate_period_ms,
        debounce_key, schedule_id, slot_at, slot_end_at, admitted, workflow_version)
      VALUES (@id, @workflow, @status, @input, @parent_id, @parent_position, @depth,
        @created_at, @started_at, @created_at, @available_at, @deadline_at, @lease_owner, @fencing_token,
        @queue, @priority, @concurrency_key, @concurrency_limit, @rate_key, @rate_limit, @rate_period_ms,
        @debounce_key, @schedule_id, @slot_at, @slot_end_at, @admitted, @workflow_version)
      ON CONFLICT DO NOTHING RETURNING *`,
  // Takes the key unless a run that still exists took it after the cutoff (see 0009).
  claimIdempotency: `INSERT INTO run_idempotency (workflow, key, run_id, created_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (workflow, key) DO UPDATE SET run_id = excluded.run_id, created_at = excluded.created_at
      WHERE run_idempotency.created_at <= ?
        OR NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = run_idempotency.run_id)
      RETURNING run_id`,
  idempotencyHolder: `SELECT r.* FROM run_idempotency k JOIN runs r ON r.id = k.run_id
      WHERE k.workflow = ? AND k.key = ?`,
  // The last start of a burst wins: its input, and the quiet period starts again.
  // INDEXED BY: SQLite would rather walk every queued run in order of creation (to skip a
  // sort of the one or two a key has), every run waiting on any queue included.
  debounceRun: `UPDATE runs SET input = ?, available_at = ?, updated_at = ?
      WHERE id = (SELECT id FROM runs INDEXED BY runs_debounce
        WHERE workflow = ? AND debounce_key = ? AND status = 'queued'
        AND started_at IS NULL ORDER BY created_at LIMIT 1) RETURNING *`,
  runningWithKey: `SELECT count(*) AS n FROM runs WHERE workflow = ? AND concurrency_key IS ?
      AND status = 'running' AND concurrency_limit IS NOT NULL`,
  startsInWindow: `SELECT count(*) AS n, min(started_at) AS oldest FROM runs
      WHERE workflow = ? AND rate_key IS ? AND rate_limit IS NOT NULL AND started_at > ?`,
  block: "UPDATE runs SET available_at = NULL, blocked_on = ? WHERE id = ?",
  deferTo: "UPDATE runs SET available_at = ? WHERE id = ?",
  unblock: `UPDATE runs SET available_at = ?, blocked_on = NULL
      WHERE blocked_on = ? AND status IN ('queued', 'waiting')`,
  concurrencyOf:
    "SELECT workflow, concurrency_key, concurrency_limit FROM runs WHERE id = ? AND concurrency_limit IS NOT NULL",
  getRun: "SELECT * FROM runs WHERE id = ?",
  getRunCreatedAt: "SELECT created_at FROM runs WHERE id = ?",
  getParentLink: "SELECT parent_id, parent_position FROM runs WHERE id = ?",
  getOwnership: "SELECT status, fencing_token FROM runs WHERE id = ?",
  // Read as arrays (see prepareStatements): the column order is the one `toEntryRow` expects.
  getJournal: `SELECT position, key, kind, status, output, error, attempt, started_at,
    finished_at, wake_at, detail, seq FROM steps WHERE run_id = ? ORDER BY position`,
  getEntryStatus: "SELECT status FROM steps WHERE run_id = ? AND position = ?",
  // Runs are claimed in order of when they became available: due timers, new runs and
  // expired leases share one queue.
  // Over-fetches: some candidates may be held back by a concurrency or rate limit.
  // INDEXED BY: without statistics SQLite would rather scan a workflow's runs, finished ones
  // too. The index leads with queue and workflow, so due runs of queues and workflows this
  // worker does not serve are never read.
  // Suspects a claim may not take are left out here, or a queue head of them would hide the
  // runs behind them from the over-fetch; so are versions the worker lacks.
  claimable: `SELECT * FROM runs INDEXED BY runs_claimable
      WHERE queue IN (SELECT value FROM json_each(@queues))
        AND workflow IN (SELECT value FROM json_each(@workflows))
        AND available_at <= @now
        AND workflow NOT IN (SELECT workflow FROM paused_workflows)
        AND (@versions IS NULL
          OR workflow || '@' || workflow_version IN (SELECT value FROM json_each(@versions)))
        AND NOT (@no_suspects AND status = 'running' AND crash_count > 0)
      ORDER BY priority DESC, available_at LIMIT (SELECT @limit)`,
  // A takeover (the run was still running: its lease lapsed) that finds the journal as long as
  // the previous claim did counts one more crash without progress; see poison runs.
  claim: `UPDATE runs SET status = 'running', lease_owner = @owner, available_at = @lease_until,
        fencing_token = fencing_token + 1, started_at = coalesce(started_at, @now), updated_at = @now,
        crash_count = CASE WHEN status <> 'running' THEN 0
          WHEN claimed_journal_len = (SELECT count(*) FROM steps WHERE run_id = runs.id)
          THEN crash_count + 1 ELSE 1 END,
        claimed_journal_len = (SELECT count(*) FROM steps WHERE run_id = runs.id)
      WHERE id = @id`,
  dueWaits: `SELECT position FROM steps WHERE run_id = ? AND status = 'waiting' AND wake_at <= ?
      ORDER BY wake_at, position`,
  // Outcomes resolved while the run was running, in the order they were resolved.
  unnumbered: `SELECT position FROM steps WHERE run_id = ? AND seq IS NULL
        AND status IN ('completed', 'failed') AND kind IN ('sleep', 'event', 'signal', 'invoke', 'any')
      ORDER BY finished_at, position`,
  numberEntry: `UPDATE steps SET seq = (SELECT coalesce(max(s.seq), 0) + 1 FROM steps s
        WHERE s.run_id = steps.run_id) WHERE run_id = ? AND position = ?`,
  // Every outcome the store resolves takes the run's next delivery sequence number.
  // During the claim: the run has no numbers in memory yet, so number it here.
  resolveDueWait: `UPDATE steps SET status = 'completed', output = CASE kind WHEN 'sleep' THEN NULL ELSE ? END,
        finished_at = ?, seq = (SELECT coalesce(max(s.seq), 0) + 1 FROM steps s WHERE s.run_id = steps.run_id)
      WHERE run_id = ? AND position = ?`,
  deleteResolvedWaits: `DELETE FROM waits WHERE run_id = ? AND position IN
        (SELECT position FROM steps WHERE run_id = ? AND status <> 'waiting')`,
  renewLease: `UPDATE runs SET available_at = ? WHERE id = ? AND fencing_token = ?
        AND status = 'running' AND lease_owner = ?`,
  upsertEntry: `INSERT INTO steps (run_id, position, key, kind, status, output, error, attempt,
        started_at, finished_at, wake_at, detail, seq)
      VALUES (@run_id, @position, @key, @kind, @status, @output, @error, @attempt,
        @started_at, @finished_at, @wake_at, @detail, @seq)
      ON CONFLICT (run_id, position) DO UPDATE SET status = excluded.status, output = excluded.output,
        error = excluded.error, attempt = excluded.attempt, started_at = excluded.started_at,
        finished_at = excluded.finished_at, wake_at = excluded.wake_at, detail = excluded.detail,
        seq = excluded.seq`,
  // The entry of a run still running under the writer's token (the last two parameters);
  // no row is written otherwise. Positional: each named parameter costs a property lookup.
  upsertFencedEntry: `INSERT INTO steps (run_id, position, key, kind, status, output, error, attempt,
        started_at, finished_at, wake_at, detail, seq)
      SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
      WHERE EXISTS (SELECT 1 FROM runs WHERE id = ? AND status = 'running' AND fencing_token = ?)
      ON CONFLICT (run_id, position) DO UPDATE SET status = excluded.status, output = excluded.output,
        error = excluded.error, attempt = excluded.attempt, started_at = excluded.started_at,
        finished_at = excluded.finished_at, wake_at = excluded.wake_at, detail = excluded.detail,
        seq = excluded.seq`,
  insertWaitingEntry: `INSERT INTO steps (run_id, position, key, kind, status, started_at, wake_at, detail)
      VALUES (?, ?, ?, ?, 'waiting', ?, ?, ?) ON CONFLICT (run_id, position) DO NOTHING`,
  resolveEntry: `UPDATE steps SET status = ?, output = ?, error = ?, finished_at = ?, ${nextSeq}
      WHERE run_id = ? AND position = ? AND status = 'waiting'`,
  resolveEventEntry: `UPDATE steps SET status = 'completed', output = ?, event_id = ?, finished_at = ?, ${nextSeq}
      WHERE run_id = ? AND position = ? AND status = 'waiting'`,
  finishRun: `UPDATE runs SET status = ?, output = ?, error = ?, finished_at = ?, updated_at = ?,
        available_at = NULL, lease_owner = NULL WHERE id = ?`,
  setRunState: `UPDATE runs SET status = ?, available_at = ?, updated_at = ?, lease_owner = NULL
      WHERE id = ?`,
  wakeRun: `UPDATE runs SET status = 'queued', available_at = ?, updated_at = ?
      WHERE id = ? AND status = 'waiting'`,
  // The earliest due run of each queue and workflow served, one index lookup each, rather
  // than a walk of every due run in time order until one of them is served.
  nextWake: `SELECT min(at) AS at FROM (
        SELECT (SELECT min(available_at) FROM runs INDEXED BY runs_claimable
            WHERE queue = q.value AND workflow = w.value AND available_at IS NOT NULL
              AND (@versions IS NULL
                OR workflow || '@' || workflow_version IN (SELECT value FROM json_each(@versions)))
          ) AS at
        FROM json_each(@queues) AS q, json_each(@workflows) AS w
        WHERE w.value NOT IN (SELECT workflow FROM paused_workflows)
        UNION ALL SELECT min(next_at) FROM schedules WHERE paused = 0
          AND workflow IN (SELECT value FROM json_each(@workflows)))`,
  insertWait:
    "INSERT OR REPLACE INTO waits (run_id, position, kind, name, match, created_at) VALUES (?, ?, ?, ?, ?, ?)",
  // One row per alternative of a waitForAny, numbered from 1 (`alt` 0: a plain wait).
  insertAnyWait:
    "INSERT OR REPLACE INTO waits (run_id, position, alt, kind, name, match, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  deleteWait: "DELETE FROM waits WHERE run_id = ? AND position = ?",
  // ctx.continueAsNew: the successor links back and takes the run's tags; the run links on.
  linkSuccessor: "UPDATE runs SET continued_from = ? WHERE id = ?",
  copyTags: `INSERT OR IGNORE INTO run_tags (run_id, key, value)
      SELECT ?, key, value FROM run_tags WHERE run_id = ?`,
  continueRun: `UPDATE runs SET status = 'completed', output = NULL, error = NULL, finished_at = ?,
        updated_at = ?, available_at = NULL, lease_owner = NULL, continued_to = ? WHERE id = ?`,
  deleteWaits: "DELETE FROM waits WHERE run_id = ?",
  waitsForEvent:
    "SELECT run_id, position, alt, match FROM waits WHERE kind = 'event' AND name = ? ORDER BY run_id, position, alt",
  signalWait:
    "SELECT position, alt FROM waits WHERE kind = 'signal' AND run_id = ? AND name = ? ORDER BY position, alt LIMIT 1",
  listEvents: `SELECT * FROM events WHERE (@name IS NULL OR name = @name)
        AND (@cursorAt IS NULL OR (created_at, id) < (@cursorAt, @cursorId))
      ORDER BY created_at DESC, id DESC LIMIT (SELECT @limit)`,
  deleteTriggers: "DELETE FROM event_triggers WHERE workflow = ?",
  insertTrigger:
    "INSERT OR REPLACE INTO event_triggers (workflow, event, condition, updated_at) VALUES (?, ?, ?, ?)",
  triggersFor: "SELECT workflow, condition FROM event_triggers WHERE event = ? ORDER BY workflow",
  registerWorkflow: `INSERT INTO workflows (name, seen_at) VALUES (?, ?)
      ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at`,
  listWorkflows: "SELECT name, seen_at FROM workflows ORDER BY name",
  // INDEXED BY: SQLite would rather walk every queued run in order of creation, admitted ones
  // too (50,000 runs waiting on another queue made each read 9 to 14 ms).
  pendingAdmission: `SELECT * FROM runs INDEXED BY runs_unadmitted
      WHERE admitted = 0 AND status = 'queued'
        AND workflow IN (SELECT value FROM json_each(?)) ORDER BY created_at LIMIT (SELECT ?)`,
  admit: `UPDATE runs SET admitted = 1, queue = @queue, priority = @priority,
        concurrency_key = @concurrency_key, concurrency_limit = @concurrency_limit,
        rate_key = @rate_key, rate_limit = @rate_limit, rate_period_ms = @rate_period_ms,
        deadline_at = @deadline_at, available_at = @available_at, updated_at = @at,
        workflow_version = @workflow_version
      WHERE id = @id AND admitted = 0 AND status = 'queued'`,
  // The admission of a run no worker claimed yet, taken by the admitting worker in the same
  // write, as the claim statement would take it (a fresh run: no crashes, no journal). One
  // UPDATE where an admission, a journal check, a claim and a read were four: each UPDATE
  // rewrote the run's entries in the status and updated_at indexes.
  admitAndTake: `UPDATE runs SET admitted = 1, queue = @queue, priority = @priority,
        concurrency_key = @concurrency_key, concurrency_limit = @concurrency_limit,
        rate_key = @rate_key, rate_limit = @rate_limit, rate_period_ms = @rate_period_ms,
        deadline_at = @deadline_at, updated_at = @at, workflow_version = @workflow_version,
        status = 'running', lease_owner = @owner, available_at = @lease_until,
        fencing_token = fencing_token + 1, started_at = coalesce(started_at, @at),
        crash_count = 0, claimed_journal_len = 0
      WHERE id = @id AND admitted = 0 AND status = 'queued'
        AND NOT EXISTS (SELECT 1 FROM steps WHERE run_id = @id)
      RETURNING *`,
  rejectAdmission: `UPDATE runs SET admitted = 1, status = 'failed', error = ?, finished_at = ?,
        updated_at = ? WHERE id = ? AND admitted = 0 AND status = 'queued'`,
  pauseWorkflow: "INSERT OR IGNORE INTO paused_workflows (workflow, paused_at) VALUES (?, ?)",
  resumeWorkflow: "DELETE FROM paused_workflows WHERE workflow = ?",
  pausedWorkflows: "SELECT workflow FROM paused_workflows ORDER BY workflow",
  insertEvent:
    "INSERT INTO events (id, name, data, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
  // Events that arrived after the run began and that this run has not consumed yet:
  // an event sent just before the wait started is not lost.
  bufferedEvents: `SELECT * FROM events WHERE name = ? AND created_at >= ?
        AND id NOT IN (SELECT event_id FROM steps WHERE run_id = ? AND event_id IS NOT NULL)
      ORDER BY created_at, rowid`,
  insertSignal: "INSERT INTO signals (run_id, name, payload, created_at) VALUES (?, ?, ?, ?)",
  oldestSignal: `SELECT seq, payload, created_at FROM signals WHERE run_id = ? AND name = ? AND consumed_at IS NULL
      ORDER BY seq LIMIT 1`,
  consumeSignal: "UPDATE signals SET consumed_at = ? WHERE seq = ?",
  cancelTree: `WITH RECURSIVE tree (id) AS (
        SELECT @id UNION ALL SELECT runs.id FROM runs JOIN tree ON runs.parent_id = tree.id)
      UPDATE runs SET status = 'cancelled', error = @error, finished_at = @at, updated_at = @at,
        available_at = NULL, lease_owner = NULL, blocked_on = NULL, fencing_token = fencing_token + 1
      WHERE id IN (SELECT id FROM tree) AND status NOT IN ('completed', 'failed', 'cancelled')
      RETURNING id`,
  insertToken:
    "INSERT INTO api_tokens (id, name, role, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
  // Never moves lastUsedAt backwards: two servers may record uses out of order.
  touchToken:
    "UPDATE api_tokens SET last_used_at = @at WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @at)",
  listTokens: "SELECT * FROM api_tokens ORDER BY created_at, id",
  revokeToken: "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
  tokenByHash: "SELECT * FROM api_tokens WHERE secret_hash = ? AND revoked_at IS NULL",
  anyActiveToken: "SELECT 1 FROM api_tokens WHERE revoked_at IS NULL LIMIT 1",
  deleteFailedEntries: "DELETE FROM steps WHERE run_id = ? AND status = 'failed'",
  requeue: `UPDATE runs SET status = 'queued', error = NULL, output = NULL, finished_at = NULL,
        available_at = ?, updated_at = ?, deadline_at = ?, lease_owner = NULL
      WHERE id = ? RETURNING *`,
  queueStats: `SELECT
        count(*) FILTER (WHERE status IN ('queued', 'waiting') AND available_at <= ?) AS due,
        min(available_at) FILTER (WHERE status IN ('queued', 'waiting') AND available_at <= ?) AS oldest,
        count(*) FILTER (WHERE status = 'running') AS running,
        count(*) FILTER (WHERE status = 'waiting') AS waiting
      FROM runs WHERE available_at IS NOT NULL OR status = 'waiting'`,
  // Oldest first, at most ? runs: one bounded transaction (the single writer is held for
  // it alone); the journal, waits, signals, tags and log lines go with it (ON DELETE CASCADE),
  // the idempotency keys the runs held by deleteKeysOf. INDEXED BY: SQLite would rather read
  // every finished run by status and sort them, inside the write lock (54 ms a chunk among
  // 200,000 finished runs, against 0.6 ms in order of finishing).
  deleteFinished: `DELETE FROM runs WHERE id IN (
      SELECT id FROM runs INDEXED BY runs_finished_at WHERE finished_at < ?
        AND status IN ('completed', 'failed', 'cancelled')
      ORDER BY finished_at LIMIT (SELECT ?)) RETURNING id`,
  deleteKeysOf: "DELETE FROM run_idempotency WHERE run_id IN (SELECT value FROM json_each(?))",
} as const;

export type Statements = { readonly [K in keyof typeof statementSql]: Database.Statement };

/** Prepares every statement once per connection. */
export function prepareStatements(db: Database.Database): Statements {
  const prepared: Record<string, Database.Statement> = {};
  for (const [name, sql] of Object.entries(statementSql)) prepared[name] = db.prepare(sql);
  // A 5,000-step journal reads in about half the time without a keyed object per row.
  prepared.getJournal?.raw(true);
  return prepared as Statements;
}
