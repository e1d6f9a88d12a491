import type Database from "better-sqlite3";

/** Every statement the store runs more than once, prepared once per connection. */
/** The run's next delivery sequence number, for an outcome the store resolves. */
const nextSeq =
  "seq = (SELECT coalesce(max(s.seq), 0) + 1 FROM steps s WHERE s.run_id = steps.run_id)";

export function prepareStatements(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    insertRun: p(`INSERT INTO runs (id, workflow, status, input, parent_id, parent_position, depth,
        created_at, started_at, updated_at, available_at, deadline_at, lease_owner, fencing_token,
        queue, priority, concurrency_key, concurrency_limit, rate_key, rate_limit, rate_period_ms,
        debounce_key, schedule_id, slot_at, slot_end_at, admitted)
      VALUES (@id, @workflow, @status, @input, @parent_id, @parent_position, @depth,
        @created_at, @started_at, @created_at, @available_at, @deadline_at, @lease_owner, @fencing_token,
        @queue, @priority, @concurrency_key, @concurrency_limit, @rate_key, @rate_limit, @rate_period_ms,
        @debounce_key, @schedule_id, @slot_at, @slot_end_at, @admitted)
      ON CONFLICT DO NOTHING RETURNING *`),
    // The last start of a burst wins: its input, and the quiet period starts again.
    debounceRun: p(`UPDATE runs SET input = ?, available_at = ?, updated_at = ?
      WHERE id = (SELECT id FROM runs WHERE workflow = ? AND debounce_key = ? AND status = 'queued'
        AND started_at IS NULL ORDER BY created_at LIMIT 1) RETURNING *`),
    runningWithKey: p(`SELECT count(*) AS n FROM runs WHERE workflow = ? AND concurrency_key IS ?
      AND status = 'running' AND concurrency_limit IS NOT NULL`),
    startsInWindow: p(`SELECT count(*) AS n, min(started_at) AS oldest FROM runs
      WHERE workflow = ? AND rate_key IS ? AND rate_limit IS NOT NULL AND started_at > ?`),
    block: p("UPDATE runs SET available_at = NULL, blocked_on = ? WHERE id = ?"),
    deferTo: p("UPDATE runs SET available_at = ? WHERE id = ?"),
    unblock: p("UPDATE runs SET available_at = ?, blocked_on = NULL WHERE blocked_on = ?"),
    concurrencyOf: p(
      "SELECT workflow, concurrency_key, concurrency_limit FROM runs WHERE id = ? AND concurrency_limit IS NOT NULL",
    ),
    getRun: p("SELECT * FROM runs WHERE id = ?"),
    getRunCreatedAt: p("SELECT created_at FROM runs WHERE id = ?"),
    getParentLink: p("SELECT parent_id, parent_position FROM runs WHERE id = ?"),
    getOwnership: p("SELECT status, fencing_token FROM runs WHERE id = ?"),
    getJournal: p("SELECT * FROM steps WHERE run_id = ? ORDER BY position"),
    getEntryStatus: p("SELECT status FROM steps WHERE run_id = ? AND position = ?"),
    // Runs are claimed in order of when they became available: due timers, new runs and
    // expired leases share one queue.
    // Over-fetches: some candidates may be held back by a concurrency or rate limit.
    claimable: p(`SELECT * FROM runs WHERE available_at <= @now
        AND workflow IN (SELECT value FROM json_each(@workflows))
        AND queue IN (SELECT value FROM json_each(@queues))
        AND workflow NOT IN (SELECT workflow FROM paused_workflows)
      ORDER BY priority DESC, available_at LIMIT @limit`),
    claim: p(`UPDATE runs SET status = 'running', lease_owner = @owner, available_at = @lease_until,
        fencing_token = fencing_token + 1, started_at = coalesce(started_at, @now), updated_at = @now
      WHERE id = @id RETURNING *`),
    dueWaits: p(`SELECT position FROM steps WHERE run_id = ? AND status = 'waiting' AND wake_at <= ?
      ORDER BY wake_at, position`),
    // Every outcome the store resolves takes the run's next delivery sequence number.
    resolveDueWait:
      p(`UPDATE steps SET status = 'completed', output = CASE kind WHEN 'sleep' THEN NULL ELSE ? END,
        finished_at = ?, ${nextSeq} WHERE run_id = ? AND position = ?`),
    deleteResolvedWaits: p(`DELETE FROM waits WHERE run_id = ? AND position IN
        (SELECT position FROM steps WHERE run_id = ? AND status <> 'waiting')`),
    renewLease: p(`UPDATE runs SET available_at = ? WHERE id = ? AND fencing_token = ?
        AND status = 'running' AND lease_owner = ?`),
    upsertEntry: p(`INSERT INTO steps (run_id, position, key, kind, status, output, error, attempt,
        started_at, finished_at, wake_at, detail, seq)
      VALUES (@run_id, @position, @key, @kind, @status, @output, @error, @attempt,
        @started_at, @finished_at, @wake_at, @detail, @seq)
      ON CONFLICT (run_id, position) DO UPDATE SET status = excluded.status, output = excluded.output,
        error = excluded.error, attempt = excluded.attempt, started_at = excluded.started_at,
        finished_at = excluded.finished_at, wake_at = excluded.wake_at, detail = excluded.detail,
        seq = excluded.seq`),
    insertWaitingEntry:
      p(`INSERT INTO steps (run_id, position, key, kind, status, started_at, wake_at, detail)
      VALUES (?, ?, ?, ?, 'waiting', ?, ?, ?) ON CONFLICT (run_id, position) DO NOTHING`),
    resolveEntry: p(`UPDATE steps SET status = ?, output = ?, error = ?, finished_at = ?, ${nextSeq}
      WHERE run_id = ? AND position = ? AND status = 'waiting'`),
    resolveEventEntry:
      p(`UPDATE steps SET status = 'completed', output = ?, event_id = ?, finished_at = ?, ${nextSeq}
      WHERE run_id = ? AND position = ? AND status = 'waiting'`),
    finishRun:
      p(`UPDATE runs SET status = ?, output = ?, error = ?, finished_at = ?, updated_at = ?,
        available_at = NULL, lease_owner = NULL WHERE id = ?`),
    setRunState: p(`UPDATE runs SET status = ?, available_at = ?, updated_at = ?, lease_owner = NULL
      WHERE id = ?`),
    wakeRun: p(`UPDATE runs SET status = 'queued', available_at = ?, updated_at = ?
      WHERE id = ? AND status = 'waiting'`),
    nextWake: p(`SELECT min(at) AS at FROM (
        SELECT min(available_at) AS at FROM runs WHERE available_at IS NOT NULL
          AND workflow IN (SELECT value FROM json_each(@workflows))
          AND queue IN (SELECT value FROM json_each(@queues))
          AND workflow NOT IN (SELECT workflow FROM paused_workflows)
        UNION ALL SELECT min(next_at) FROM schedules WHERE paused = 0
          AND workflow IN (SELECT value FROM json_each(@workflows)))`),
    insertWait: p(
      "INSERT OR REPLACE INTO waits (run_id, position, kind, name, match, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    deleteWait: p("DELETE FROM waits WHERE run_id = ? AND position = ?"),
    deleteWaits: p("DELETE FROM waits WHERE run_id = ?"),
    waitsForEvent: p(
      "SELECT run_id, position, match FROM waits WHERE kind = 'event' AND name = ? ORDER BY run_id, position",
    ),
    signalWait: p(
      "SELECT position FROM waits WHERE kind = 'signal' AND run_id = ? AND name = ? ORDER BY position LIMIT 1",
    ),
    listEvents: p(`SELECT * FROM events WHERE (@name IS NULL OR name = @name)
        AND (@cursorAt IS NULL OR (created_at, id) < (@cursorAt, @cursorId))
      ORDER BY created_at DESC, id DESC LIMIT @limit`),
    deleteTriggers: p("DELETE FROM event_triggers WHERE workflow = ?"),
    insertTrigger: p(
      "INSERT OR REPLACE INTO event_triggers (workflow, event, condition, updated_at) VALUES (?, ?, ?, ?)",
    ),
    triggersFor: p(
      "SELECT workflow, condition FROM event_triggers WHERE event = ? ORDER BY workflow",
    ),
    registerWorkflow: p(`INSERT INTO workflows (name, seen_at) VALUES (?, ?)
      ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at`),
    listWorkflows: p("SELECT name, seen_at FROM workflows ORDER BY name"),
    pendingAdmission: p(`SELECT * FROM runs WHERE admitted = 0 AND status = 'queued'
        AND workflow IN (SELECT value FROM json_each(?)) ORDER BY created_at LIMIT ?`),
    admit: p(`UPDATE runs SET admitted = 1, queue = @queue, priority = @priority,
        concurrency_key = @concurrency_key, concurrency_limit = @concurrency_limit,
        rate_key = @rate_key, rate_limit = @rate_limit, rate_period_ms = @rate_period_ms,
        deadline_at = @deadline_at, available_at = @available_at, updated_at = @at
      WHERE id = @id AND admitted = 0 AND status = 'queued'`),
    rejectAdmission: p(`UPDATE runs SET admitted = 1, status = 'failed', error = ?, finished_at = ?,
        updated_at = ? WHERE id = ? AND admitted = 0 AND status = 'queued'`),
    pauseWorkflow: p("INSERT OR IGNORE INTO paused_workflows (workflow, paused_at) VALUES (?, ?)"),
    resumeWorkflow: p("DELETE FROM paused_workflows WHERE workflow = ?"),
    pausedWorkflows: p("SELECT workflow FROM paused_workflows ORDER BY workflow"),
    insertEvent: p(
      "INSERT INTO events (id, name, data, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
    ),
    // Events that arrived after the run began and that this run has not consumed yet:
    // an event sent just before the wait started is not lost.
    bufferedEvents: p(`SELECT * FROM events WHERE name = ? AND created_at >= ?
        AND id NOT IN (SELECT event_id FROM steps WHERE run_id = ? AND event_id IS NOT NULL)
      ORDER BY created_at, rowid`),
    insertSignal: p("INSERT INTO signals (run_id, name, payload, created_at) VALUES (?, ?, ?, ?)"),
    oldestSignal:
      p(`SELECT seq, payload FROM signals WHERE run_id = ? AND name = ? AND consumed_at IS NULL
      ORDER BY seq LIMIT 1`),
    consumeSignal: p("UPDATE signals SET consumed_at = ? WHERE seq = ?"),
    cancelTree: p(`WITH RECURSIVE tree (id) AS (
        SELECT @id UNION ALL SELECT runs.id FROM runs JOIN tree ON runs.parent_id = tree.id)
      UPDATE runs SET status = 'cancelled', error = @error, finished_at = @at, updated_at = @at,
        available_at = NULL, lease_owner = NULL, fencing_token = fencing_token + 1
      WHERE id IN (SELECT id FROM tree) AND status NOT IN ('completed', 'failed', 'cancelled')
      RETURNING id`),
    insertToken: p(
      "INSERT INTO api_tokens (id, name, role, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
    ),
    listTokens: p("SELECT * FROM api_tokens ORDER BY created_at, id"),
    revokeToken: p("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"),
    tokenByHash: p("SELECT * FROM api_tokens WHERE secret_hash = ? AND revoked_at IS NULL"),
    anyActiveToken: p("SELECT 1 FROM api_tokens WHERE revoked_at IS NULL LIMIT 1"),
    deleteFailedEntries: p("DELETE FROM steps WHERE run_id = ? AND status = 'failed'"),
    requeue: p(`UPDATE runs SET status = 'queued', error = NULL, output = NULL, finished_at = NULL,
        available_at = ?, updated_at = ?, deadline_at = ?, lease_owner = NULL
      WHERE id = ? RETURNING *`),
    queueStats: p(`SELECT
        count(*) FILTER (WHERE status IN ('queued', 'waiting') AND available_at <= ?) AS due,
        min(available_at) FILTER (WHERE status IN ('queued', 'waiting') AND available_at <= ?) AS oldest,
        count(*) FILTER (WHERE status = 'running') AS running,
        count(*) FILTER (WHERE status = 'waiting') AS waiting
      FROM runs WHERE available_at IS NOT NULL OR status = 'waiting'`),
    deleteFinished: p(`DELETE FROM runs WHERE finished_at < ?
      AND status IN ('completed', 'failed', 'cancelled')`),
  };
}
