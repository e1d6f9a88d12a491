import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { CairnError } from "../core/errors.ts";
import { matchesEvent, serializeReceivedEvent } from "../core/events.ts";
import { deserialize } from "../core/serializer.ts";
import { isTerminal, type RunId, type RunStatus } from "../core/types.ts";
import type {
  ClaimedRun,
  EventRecord,
  JournalEntry,
  JournalOp,
  JournalOpResult,
  NewRun,
  QueueStats,
  RunFilter,
  RunRecord,
  Store,
  WaitRegistration,
} from "../store/store.ts";
import { migrate } from "./migrate.ts";
import { toEntry, toRun, toToken } from "./rows.ts";

export interface SqliteStoreOptions {
  /**
   * `FULL` fsyncs the WAL on every commit: a committed step survives power loss.
   * `NORMAL` survives process crashes but may lose the last commits on power loss.
   * (Default: "FULL")
   */
  synchronous?: "FULL" | "NORMAL";
  /** How long a writer waits for another process's transaction, in ms. (Default: 10_000) */
  busyTimeoutMs?: number;
}

/** `superjson.stringify(null)`: what a wait that timed out resolves to. */
const serializedNull = '{"json":null}';

/**
 * The embedded store: one better-sqlite3 connection in WAL mode. Every write runs in an
 * immediate transaction, so several processes on one file serialize on SQLite's lock
 * (waiting up to the busy timeout) instead of failing or interleaving.
 */
export class SqliteStore implements Store {
  readonly capabilities = { skipLocked: false, notify: false, concurrentWriters: false };
  readonly path: string;
  readonly #db: Database.Database;
  readonly #sql: ReturnType<typeof prepareStatements>;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
    this.#db.pragma("journal_mode = WAL");
    this.#db.pragma(`synchronous = ${options.synchronous ?? "FULL"}`);
    this.#db.pragma("foreign_keys = ON");
    migrate(this.#db);
    this.#sql = prepareStatements(this.#db);
  }

  /** Runs `fn` in an immediate (write-locking) transaction. */
  #write<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  async createRun(
    run: NewRun,
    claim?: { owner: string; leaseUntil: number },
  ): Promise<{ run: RunRecord; created: boolean }> {
    return this.#write(() => {
      const inserted = this.#sql.insertRun.get({
        id: run.id,
        workflow: run.workflow,
        status: claim ? "running" : "queued",
        input: run.input,
        parent_id: run.parentId ?? null,
        parent_position: run.parentPosition ?? null,
        depth: run.depth ?? 0,
        created_at: run.createdAt,
        started_at: claim ? run.createdAt : null,
        available_at: claim ? claim.leaseUntil : run.createdAt,
        deadline_at: run.deadlineAt ?? null,
        lease_owner: claim?.owner ?? null,
        fencing_token: claim ? 1 : 0,
      });
      if (inserted) return { run: toRun(inserted), created: true };
      return { run: toRun(this.#sql.getRun.get(run.id)), created: false };
    });
  }

  async getRun(id: RunId): Promise<RunRecord | undefined> {
    const row = this.#sql.getRun.get(id);
    return row ? toRun(row) : undefined;
  }

  async listRuns(filter: RunFilter): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: Math.min(filter.limit ?? 50, 1000) };
    if (filter.workflow !== undefined) {
      where.push("workflow = @workflow");
      params.workflow = filter.workflow;
    }
    if (filter.status !== undefined) {
      where.push("status = @status");
      params.status = filter.status;
    }
    if (filter.parentId !== undefined) {
      where.push("parent_id = @parentId");
      params.parentId = filter.parentId;
    }
    if (filter.createdAfter !== undefined) {
      where.push("created_at >= @createdAfter");
      params.createdAfter = filter.createdAfter;
    }
    if (filter.createdBefore !== undefined) {
      where.push("created_at < @createdBefore");
      params.createdBefore = filter.createdBefore;
    }
    if (filter.updatedAfter !== undefined) {
      where.push("updated_at > @updatedAfter");
      params.updatedAfter = filter.updatedAfter;
    }
    if (filter.before) {
      where.push("(created_at, id) < (@cursorAt, @cursorId)");
      params.cursorAt = filter.before.createdAt;
      params.cursorId = filter.before.id;
    }
    const order =
      filter.updatedAfter !== undefined ? "updated_at ASC, id ASC" : "created_at DESC, id DESC";
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY ${order} LIMIT @limit`;
    return this.#db.prepare(sql).all(params).map(toRun);
  }

  async getJournal(id: RunId): Promise<JournalEntry[]> {
    return this.#sql.getJournal.all(id).map(toEntry);
  }

  async claimRuns(
    owner: string,
    workflows: readonly string[],
    now: number,
    leaseMs: number,
    limit: number,
  ): Promise<ClaimedRun[]> {
    if (limit <= 0 || workflows.length === 0) return [];
    return this.#write(() => {
      const picked = this.#sql.claimable.all({
        now,
        workflows: JSON.stringify(workflows),
        limit,
      }) as {
        id: RunId;
        status: RunStatus;
      }[];
      return picked.map(({ id, status }) => {
        const run = toRun(this.#sql.claim.get({ owner, now, lease_until: now + leaseMs, id }));
        // Sleeps and wait timeouts that are due resolve here, once, so that every later
        // replay sees the same outcome whatever its own clock says.
        if (this.#sql.resolveDueWaits.run(serializedNull, now, run.id, now).changes > 0) {
          this.#sql.deleteResolvedWaits.run(run.id, run.id);
        }
        return { run, token: run.fencingToken, takeover: status === "running" };
      });
    });
  }

  async renewLeases(
    owner: string,
    leases: readonly { runId: RunId; token: number }[],
    until: number,
  ): Promise<RunId[]> {
    if (leases.length === 0) return [];
    return this.#write(() => {
      const lost: RunId[] = [];
      for (const { runId, token } of leases) {
        if (this.#sql.renewLease.run(until, runId, token, owner).changes === 0) lost.push(runId);
      }
      return lost;
    });
  }

  async commit(ops: readonly JournalOp[]): Promise<JournalOpResult[]> {
    return this.#write(() => ops.map((op) => this.#apply(op)));
  }

  #apply(op: JournalOp): JournalOpResult {
    const current = this.#sql.getOwnership.get(op.runId) as
      | { status: RunStatus; fencing_token: number }
      | undefined;
    if (current?.status !== "running" || current.fencing_token !== op.token) {
      return { ok: false, reason: "fenced", status: current?.status ?? null };
    }
    switch (op.type) {
      case "entry":
        this.#sql.upsertEntry.run(entryParams(op.runId, op.entry));
        return { ok: true };
      case "complete":
        this.#sql.finishRun.run("completed", op.output, null, op.at, op.at, op.runId);
        this.#sql.deleteWaits.run(op.runId);
        this.#resolveParent(op.runId, "completed", op.output, null, op.at);
        return { ok: true, status: "completed" };
      case "fail":
        this.#sql.finishRun.run("failed", null, op.error, op.at, op.at, op.runId);
        this.#sql.deleteWaits.run(op.runId);
        this.#resolveParent(op.runId, "failed", null, op.error, op.at);
        return { ok: true, status: "failed" };
      case "release":
        this.#sql.setRunState.run("queued", op.at, op.at, op.runId);
        return { ok: true, status: "queued" };
      case "suspend": {
        let resolved = false;
        for (const wait of op.waits) {
          if (this.#registerWait(op.runId, wait, op.at)) resolved = true;
        }
        const status: RunStatus = resolved ? "queued" : "waiting";
        this.#sql.setRunState.run(status, resolved ? op.at : op.availableAt, op.at, op.runId);
        return { ok: true, status };
      }
    }
  }

  /** Records a wait; returns true when it is already resolved (buffered input, finished child). */
  #registerWait(runId: RunId, wait: WaitRegistration, at: number): boolean {
    if (wait.kind === "retry") return false; // only the run's available_at waits for it
    const detail =
      wait.kind === "event"
        ? JSON.stringify({ event: wait.event, match: wait.match })
        : wait.kind === "signal"
          ? JSON.stringify({ signal: wait.signal })
          : wait.kind === "invoke"
            ? JSON.stringify({ childId: wait.childId })
            : null;
    const wakeAt =
      wait.kind === "sleep" ? wait.wakeAt : wait.kind === "invoke" ? null : wait.timeoutAt;
    this.#sql.insertWaitingEntry.run(runId, wait.position, wait.key, wait.kind, at, wakeAt, detail);
    const entry = this.#sql.getEntryStatus.get(runId, wait.position) as { status: string };
    if (entry.status !== "waiting") return true;

    switch (wait.kind) {
      case "sleep":
        return false;
      case "event": {
        const createdAt = (this.#sql.getRunCreatedAt.get(runId) as { created_at: number })
          .created_at;
        for (const event of this.#sql.bufferedEvents.all(wait.event, createdAt, runId)) {
          const record = toEvent(event);
          if (!matchesEvent(deserialize(record.data), wait.match)) continue;
          this.#sql.resolveEventEntry.run(
            serializeReceivedEvent(record),
            record.id,
            at,
            runId,
            wait.position,
          );
          return true;
        }
        this.#sql.insertWait.run(
          runId,
          wait.position,
          "event",
          wait.event,
          JSON.stringify(wait.match),
          at,
        );
        return false;
      }
      case "signal": {
        const signal = this.#sql.oldestSignal.get(runId, wait.signal) as
          | { seq: number; payload: string | null }
          | undefined;
        if (signal) {
          this.#sql.consumeSignal.run(at, signal.seq);
          this.#sql.resolveEntry.run("completed", signal.payload, null, at, runId, wait.position);
          return true;
        }
        this.#sql.insertWait.run(runId, wait.position, "signal", wait.signal, null, at);
        return false;
      }
      case "invoke": {
        const child = this.#sql.getRun.get(wait.childId);
        if (!child) return false;
        const { status, output, error } = toRun(child);
        if (!isTerminal(status)) return false;
        this.#sql.resolveEntry.run(
          status === "completed" ? "completed" : "failed",
          output,
          error,
          at,
          runId,
          wait.position,
        );
        return true;
      }
    }
  }

  /** A finished child resolves its parent's invoke entry and wakes the parent. */
  #resolveParent(
    childId: RunId,
    status: RunStatus,
    output: string | null,
    error: string | null,
    at: number,
  ) {
    const child = this.#sql.getParentLink.get(childId) as
      | { parent_id: RunId | null; parent_position: number | null }
      | undefined;
    if (!child?.parent_id || child.parent_position === null) return;
    const entryStatus = status === "completed" ? "completed" : "failed";
    const changed = this.#sql.resolveEntry.run(
      entryStatus,
      output,
      error,
      at,
      child.parent_id,
      child.parent_position,
    );
    if (changed.changes > 0) this.#sql.wakeRun.run(at, at, child.parent_id);
  }

  async nextWakeAt(workflows: readonly string[]): Promise<number | null> {
    const row = this.#sql.nextWake.get(JSON.stringify(workflows)) as { at: number | null };
    return row.at;
  }

  async sendEvent(event: EventRecord) {
    return this.#write(() => {
      const inserted = this.#sql.insertEvent.run(event.id, event.name, event.data, event.createdAt);
      if (inserted.changes === 0) return { accepted: true, duplicate: true, woke: [] as RunId[] };
      const data = deserialize(event.data);
      const payload = serializeReceivedEvent(event);
      const woke = new Set<RunId>();
      const waits = this.#sql.waitsForEvent.all(event.name) as {
        run_id: RunId;
        position: number;
        match: string | null;
      }[];
      for (const wait of waits) {
        if (woke.has(wait.run_id)) continue; // one event resumes one wait per run
        if (!matchesEvent(data, wait.match ? JSON.parse(wait.match) : null)) continue;
        this.#sql.resolveEventEntry.run(
          payload,
          event.id,
          event.createdAt,
          wait.run_id,
          wait.position,
        );
        this.#sql.deleteWait.run(wait.run_id, wait.position);
        this.#sql.wakeRun.run(event.createdAt, event.createdAt, wait.run_id);
        woke.add(wait.run_id);
      }
      return { accepted: true, duplicate: false, woke: [...woke] };
    });
  }

  async sendSignal(runId: RunId, name: string, payload: string | null, at: number) {
    return this.#write(() => {
      const row = this.#sql.getRun.get(runId);
      if (!row) throw new CairnError("RUN_NOT_FOUND", `No run with id "${runId}".`);
      const run = toRun(row);
      if (isTerminal(run.status)) {
        throw new CairnError(
          "RUN_NOT_ACTIVE",
          `Run "${runId}" is ${run.status}; it takes no more signals.`,
        );
      }
      const seq = this.#sql.insertSignal.run(runId, name, payload, at).lastInsertRowid;
      const wait = this.#sql.signalWait.get(runId, name) as { position: number } | undefined;
      if (!wait) return { woke: false };
      this.#sql.consumeSignal.run(at, seq);
      this.#sql.resolveEntry.run("completed", payload, null, at, runId, wait.position);
      this.#sql.deleteWait.run(runId, wait.position);
      this.#sql.wakeRun.run(at, at, runId);
      return { woke: true };
    });
  }

  async cancelRun(id: RunId, error: string, at: number): Promise<RunId[]> {
    return this.#write(() => {
      const root = this.#sql.getRun.get(id);
      if (!root) throw new CairnError("RUN_NOT_FOUND", `No run with id "${id}".`);
      const cancelled = this.#sql.cancelTree
        .all({ id, error, at })
        .map((r) => (r as { id: RunId }).id);
      for (const runId of cancelled) this.#sql.deleteWaits.run(runId);
      if (cancelled.includes(id)) this.#resolveParent(id, "cancelled", null, error, at);
      return cancelled;
    });
  }

  async retryRun(id: RunId, at: number, deadlineAt: number | null): Promise<RunRecord> {
    return this.#write(() => {
      const row = this.#sql.getRun.get(id);
      if (!row) throw new CairnError("RUN_NOT_FOUND", `No run with id "${id}".`);
      const { status } = toRun(row);
      if (status !== "failed" && status !== "cancelled") {
        throw new CairnError(
          "INVALID_STATE",
          `Run "${id}" is ${status}; only failed or cancelled runs can be retried.`,
        );
      }
      this.#sql.deleteFailedEntries.run(id);
      return toRun(this.#sql.requeue.get(at, at, deadlineAt, id));
    });
  }

  async queueStats(now: number): Promise<QueueStats> {
    const row = this.#sql.queueStats.get(now, now) as {
      due: number;
      oldest: number | null;
      running: number;
      waiting: number;
    };
    return { due: row.due, oldestDueAt: row.oldest, running: row.running, waiting: row.waiting };
  }

  async deleteFinishedRuns(before: number): Promise<number> {
    return this.#write(() => this.#sql.deleteFinished.run(before).changes);
  }

  async transactionalStep<T>(
    op: { runId: RunId; token: number; entry: JournalEntry },
    fn: (tx: unknown) => T | Promise<T>,
    serializeOutput: (value: T) => string,
  ): Promise<{ ok: true; value: T; output: string } | { ok: false; reason: "fenced" }> {
    // better-sqlite3 transactions are synchronous: the function runs inside this one and
    // must not await, or its writes would escape the checkpoint's transaction.
    return this.#write(() => {
      const current = this.#sql.getOwnership.get(op.runId) as
        | { status: RunStatus; fencing_token: number }
        | undefined;
      if (current?.status !== "running" || current.fencing_token !== op.token) {
        return { ok: false as const, reason: "fenced" as const };
      }
      const value = fn(this.#db);
      if (value !== null && typeof (value as { then?: unknown })?.then === "function") {
        throw new CairnError(
          "INVALID_ARGUMENT",
          "On SQLite, the function of ctx.transaction must be synchronous: better-sqlite3 runs " +
            "the step's queries and its checkpoint in one synchronous transaction.",
        );
      }
      const output = serializeOutput(value as T);
      this.#sql.upsertEntry.run(entryParams(op.runId, { ...op.entry, output }));
      return { ok: true as const, value: value as T, output };
    });
  }

  readonly tokens: Store["tokens"] = {
    create: async (token) => {
      this.#write(() =>
        this.#sql.insertToken.run(
          token.id,
          token.name,
          token.role,
          token.secretHash,
          token.createdAt,
        ),
      );
    },
    list: async () => this.#sql.listTokens.all().map(toToken),
    revoke: async (id, at) => this.#write(() => this.#sql.revokeToken.run(at, id).changes > 0),
    findActiveByHash: async (secretHash) => {
      const row = this.#sql.tokenByHash.get(secretHash);
      return row ? toToken(row) : undefined;
    },
    anyActive: async () => this.#sql.anyActiveToken.get() !== undefined,
  };

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}

function toEvent(row: unknown): EventRecord {
  const r = row as { id: string; name: string; data: string | null; created_at: number };
  return { id: r.id, name: r.name, data: r.data, createdAt: r.created_at };
}

function entryParams(runId: RunId, e: JournalEntry) {
  return {
    run_id: runId,
    position: e.position,
    key: e.key,
    kind: e.kind,
    status: e.status,
    output: e.output,
    error: e.error,
    attempt: e.attempt,
    started_at: e.startedAt,
    finished_at: e.finishedAt,
    wake_at: e.wakeAt,
    detail: e.detail,
  };
}

/** Every statement the store runs more than once, prepared once per connection. */
function prepareStatements(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    insertRun: p(`INSERT INTO runs (id, workflow, status, input, parent_id, parent_position, depth,
        created_at, started_at, updated_at, available_at, deadline_at, lease_owner, fencing_token)
      VALUES (@id, @workflow, @status, @input, @parent_id, @parent_position, @depth,
        @created_at, @started_at, @created_at, @available_at, @deadline_at, @lease_owner, @fencing_token)
      ON CONFLICT (id) DO NOTHING RETURNING *`),
    getRun: p("SELECT * FROM runs WHERE id = ?"),
    getRunCreatedAt: p("SELECT created_at FROM runs WHERE id = ?"),
    getParentLink: p("SELECT parent_id, parent_position FROM runs WHERE id = ?"),
    getOwnership: p("SELECT status, fencing_token FROM runs WHERE id = ?"),
    getJournal: p("SELECT * FROM steps WHERE run_id = ? ORDER BY position"),
    getEntryStatus: p("SELECT status FROM steps WHERE run_id = ? AND position = ?"),
    // Runs are claimed in order of when they became available: due timers, new runs and
    // expired leases share one queue.
    claimable: p(`SELECT id, status FROM runs WHERE available_at <= @now
        AND workflow IN (SELECT value FROM json_each(@workflows))
      ORDER BY available_at LIMIT @limit`),
    claim: p(`UPDATE runs SET status = 'running', lease_owner = @owner, available_at = @lease_until,
        fencing_token = fencing_token + 1, started_at = coalesce(started_at, @now), updated_at = @now
      WHERE id = @id RETURNING *`),
    resolveDueWaits:
      p(`UPDATE steps SET status = 'completed', output = CASE kind WHEN 'sleep' THEN NULL ELSE ? END,
        finished_at = ? WHERE run_id = ? AND status = 'waiting' AND wake_at <= ?`),
    deleteResolvedWaits: p(`DELETE FROM waits WHERE run_id = ? AND position IN
        (SELECT position FROM steps WHERE run_id = ? AND status <> 'waiting')`),
    renewLease: p(`UPDATE runs SET available_at = ? WHERE id = ? AND fencing_token = ?
        AND status = 'running' AND lease_owner = ?`),
    upsertEntry: p(`INSERT INTO steps (run_id, position, key, kind, status, output, error, attempt,
        started_at, finished_at, wake_at, detail)
      VALUES (@run_id, @position, @key, @kind, @status, @output, @error, @attempt,
        @started_at, @finished_at, @wake_at, @detail)
      ON CONFLICT (run_id, position) DO UPDATE SET status = excluded.status, output = excluded.output,
        error = excluded.error, attempt = excluded.attempt, started_at = excluded.started_at,
        finished_at = excluded.finished_at, wake_at = excluded.wake_at, detail = excluded.detail`),
    insertWaitingEntry:
      p(`INSERT INTO steps (run_id, position, key, kind, status, started_at, wake_at, detail)
      VALUES (?, ?, ?, ?, 'waiting', ?, ?, ?) ON CONFLICT (run_id, position) DO NOTHING`),
    resolveEntry: p(`UPDATE steps SET status = ?, output = ?, error = ?, finished_at = ?
      WHERE run_id = ? AND position = ? AND status = 'waiting'`),
    resolveEventEntry:
      p(`UPDATE steps SET status = 'completed', output = ?, event_id = ?, finished_at = ?
      WHERE run_id = ? AND position = ? AND status = 'waiting'`),
    finishRun:
      p(`UPDATE runs SET status = ?, output = ?, error = ?, finished_at = ?, updated_at = ?,
        available_at = NULL, lease_owner = NULL WHERE id = ?`),
    setRunState: p(`UPDATE runs SET status = ?, available_at = ?, updated_at = ?, lease_owner = NULL
      WHERE id = ?`),
    wakeRun: p(`UPDATE runs SET status = 'queued', available_at = ?, updated_at = ?
      WHERE id = ? AND status = 'waiting'`),
    nextWake: p(`SELECT min(available_at) AS at FROM runs WHERE available_at IS NOT NULL
      AND workflow IN (SELECT value FROM json_each(?))`),
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
