import type Database from "better-sqlite3";
import { CairnError } from "../core/errors.ts";
import { matchesEvent, serializeReceivedEvent } from "../core/events.ts";
import { deserialize } from "../core/serializer.ts";
import { isTerminal, type RunId } from "../core/types.ts";
import type {
  Admission,
  ClaimedRun,
  ClaimScope,
  EventRecord,
  JournalEntry,
  JournalOp,
  JournalOpResult,
  NewRun,
  QueueStats,
  RunFilter,
  RunRecord,
  Store,
} from "../store/store.ts";
import { applyOp, concurrencySlot, freeSlot, resolveParent, toEvent } from "./commit-batch.ts";
import { watchDataVersion } from "./data-version-watch.ts";
import { listRuns } from "./list-runs.ts";
import { openDatabase, type SqliteStoreOptions } from "./open-database.ts";
import { sqliteRememberWebhookSignature } from "./remember-webhook-signature.ts";
import { newRunParams, toEntryRow, toRun } from "./rows.ts";
import { sqliteFlows } from "./sqlite-flows.ts";
import { sqliteSchedules } from "./sqlite-schedules.ts";
import { sqliteTokens } from "./sqlite-tokens.ts";
import { sqliteUi } from "./sqlite-ui.ts";
import { prepareStatements } from "./statements.ts";
import { transactionalStep } from "./transactional-step.ts";
import { sqliteWriteProbe, writeProbeUpsert } from "./write-probe.ts";

export type { SqliteStoreOptions } from "./open-database.ts";

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
  #pendingCreates: {
    run: NewRun;
    claim: { owner: string; leaseUntil: number } | undefined;
    resolve: (result: CreateResult) => void;
    reject: (error: unknown) => void;
  }[] = [];

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    this.#db = openDatabase(path, options);
    this.#sql = prepareStatements(this.#db);
  }

  /** Runs `fn` in an immediate (write-locking) transaction. */
  #write<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  /**
   * Creates a run. Starts made in the same turn of the event loop share one transaction
   * (one fsync), as journal writes do: 200 runs started at once cost one commit, not 200.
   */
  createRun(
    run: NewRun,
    claim?: { owner: string; leaseUntil: number },
  ): Promise<{ run: RunRecord; created: boolean; debounced?: boolean }> {
    return new Promise((resolve, reject) => {
      this.#pendingCreates.push({ run, claim, resolve, reject });
      if (this.#pendingCreates.length === 1) setImmediate(() => this.#flushCreates());
    });
  }

  #flushCreates(): void {
    const batch = this.#pendingCreates;
    this.#pendingCreates = [];
    let outcomes: ({ ok: true; value: CreateResult } | { ok: false; error: unknown })[];
    try {
      outcomes = this.#write(() =>
        batch.map(({ run, claim }) => {
          try {
            return { ok: true as const, value: this.#createOne(run, claim) };
          } catch (error) {
            return { ok: false as const, error };
          }
        }),
      );
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (const [i, pending] of batch.entries()) {
      const outcome = outcomes[i];
      if (outcome?.ok) pending.resolve(outcome.value);
      else pending.reject(outcome?.error);
    }
  }

  #createOne(run: NewRun, claim: { owner: string; leaseUntil: number } | undefined): CreateResult {
    if (run.debounce && !claim) {
      const at = run.createdAt + run.debounce.periodMs;
      const row = this.#sql.debounceRun.get(
        run.input,
        at,
        run.createdAt,
        run.workflow,
        run.debounce.key,
      );
      if (row) return { run: toRun(row), created: false, debounced: true };
    }
    const inserted = this.#sql.insertRun.get(newRunParams(run, claim));
    if (inserted) return { run: toRun(inserted), created: true };
    return { run: toRun(this.#sql.getRun.get(run.id)), created: false };
  }

  async getRun(id: RunId): Promise<RunRecord | undefined> {
    const row = this.#sql.getRun.get(id);
    return row ? toRun(row) : undefined;
  }

  async listRuns(filter: RunFilter): Promise<RunRecord[]> {
    return listRuns(this.#db, filter);
  }

  async getJournal(id: RunId): Promise<JournalEntry[]> {
    return this.#sql.getJournal.all(id).map(toEntryRow);
  }

  async claimRuns(
    owner: string,
    scope: ClaimScope,
    now: number,
    leaseMs: number,
    limit: number,
  ): Promise<ClaimedRun[]> {
    if (limit <= 0 || scope.workflows.length === 0) return [];
    return this.#write(() => {
      const candidates = this.#sql.claimable
        .all({
          now,
          workflows: JSON.stringify(scope.workflows),
          queues: JSON.stringify(scope.queues ?? ["default"]),
          limit: limit * 2 + 8,
          no_suspects: scope.suspects === 0 ? 1 : 0,
        })
        .map((row) => {
          const { status, crash_count } = row as { status: string; crash_count: number };
          return {
            ...toRun(row as Record<string, unknown>),
            suspect: status === "running" && crash_count > 0,
          };
        });
      const claimed: ClaimedRun[] = [];
      let suspects = scope.suspects ?? Number.POSITIVE_INFINITY;
      for (const candidate of candidates) {
        if (claimed.length >= limit) break;
        if (candidate.suspect && suspects-- <= 0) continue;
        const takeover = candidate.status === "running";
        // A takeover already holds its concurrency slot and has started.
        if (!takeover && !this.#admit(candidate, now)) continue;
        const row = this.#sql.claim.get({
          owner,
          now,
          lease_until: now + leaseMs,
          id: candidate.id,
        }) as Record<string, unknown>;
        const run = toRun(row);
        // Sleeps and wait timeouts that are due resolve here, once, so that every later
        // replay sees the same outcome whatever its own clock says.
        for (const { position } of this.#sql.unnumbered.all(run.id) as { position: number }[]) {
          this.#sql.numberEntry.run(run.id, position);
        }
        const due = this.#sql.dueWaits.all(run.id, now) as { position: number }[];
        for (const { position } of due) {
          this.#sql.resolveDueWait.run(serializedNull, now, run.id, position);
        }
        if (due.length > 0) this.#sql.deleteResolvedWaits.run(run.id, run.id);
        claimed.push({ run, token: run.fencingToken, takeover, crashes: Number(row.crash_count) });
      }
      return claimed;
    });
  }

  /**
   * Flow control at the door: a run over its concurrency limit is parked (unclaimable
   * until a run of its key stops running); a first start over its rate limit is deferred
   * until the window frees. Both wait in the store, not in any worker's memory.
   */
  #admit(run: RunRecord, now: number): boolean {
    if (run.concurrencyLimit !== null) {
      const { n } = this.#sql.runningWithKey.get(run.workflow, run.concurrencyKey) as { n: number };
      if (n >= run.concurrencyLimit) {
        this.#sql.block.run(concurrencySlot(run.workflow, run.concurrencyKey), run.id);
        return false;
      }
    }
    if (run.rateLimit !== null && run.ratePeriodMs !== null && run.startedAt === null) {
      const window = this.#sql.startsInWindow.get(
        run.workflow,
        run.rateKey,
        now - run.ratePeriodMs,
      ) as {
        n: number;
        oldest: number | null;
      };
      if (window.n >= run.rateLimit) {
        this.#sql.deferTo.run((window.oldest ?? now) + run.ratePeriodMs, run.id);
        return false;
      }
    }
    return true;
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
    return this.#write(() => ops.map((op) => applyOp(this.#sql, op)));
  }

  async nextWakeAt(scope: ClaimScope): Promise<number | null> {
    const row = this.#sql.nextWake.get({
      workflows: JSON.stringify(scope.workflows),
      queues: JSON.stringify(scope.queues ?? ["default"]),
    }) as { at: number | null };
    return row.at;
  }

  async sendEvent(event: EventRecord, starts: readonly NewRun[] = []) {
    return this.#write(() => {
      const inserted = this.#sql.insertEvent.run(event.id, event.name, event.data, event.createdAt);
      if (inserted.changes === 0) {
        return { accepted: true, duplicate: true, woke: [] as RunId[], started: [] as RunId[] };
      }
      const started: RunId[] = [];
      for (const run of starts) {
        if (this.#sql.insertRun.get(newRunParams(run, undefined))) started.push(run.id);
      }
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
      return { accepted: true, duplicate: false, woke: [...woke], started };
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
      for (const runId of cancelled) {
        this.#sql.deleteWaits.run(runId);
        freeSlot(this.#sql, runId, at);
      }
      if (cancelled.includes(id)) resolveParent(this.#sql, id, "cancelled", null, error, at);
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

  async listEvents(filter: Parameters<Store["listEvents"]>[0]): Promise<EventRecord[]> {
    const { name = null, before, limit = 50 } = filter;
    const cursor = { cursorAt: before?.createdAt ?? null, cursorId: before?.id ?? null };
    return this.#sql.listEvents.all({ name, ...cursor, limit: Math.min(limit, 1000) }).map(toEvent);
  }

  async setEventTriggers(
    workflow: string,
    triggers: readonly { event: string; condition: string }[],
    at: number,
  ): Promise<void> {
    this.#write(() => {
      this.#sql.deleteTriggers.run(workflow);
      for (const t of triggers) this.#sql.insertTrigger.run(workflow, t.event, t.condition, at);
    });
  }

  async eventTriggers(event: string): Promise<{ workflow: string; condition: string }[]> {
    return this.#sql.triggersFor.all(event) as { workflow: string; condition: string }[];
  }

  async registerWorkflows(names: readonly string[], at: number): Promise<void> {
    if (names.length === 0) return;
    this.#write(() => {
      for (const name of names) this.#sql.registerWorkflow.run(name, at);
    });
  }

  async listWorkflows(): Promise<{ name: string; seenAt: number }[]> {
    return (this.#sql.listWorkflows.all() as { name: string; seen_at: number }[]).map((r) => ({
      name: r.name,
      seenAt: r.seen_at,
    }));
  }

  async pendingAdmission(workflows: readonly string[], limit: number): Promise<RunRecord[]> {
    if (workflows.length === 0) return [];
    return this.#sql.pendingAdmission.all(JSON.stringify(workflows), limit).map(toRun);
  }

  async admitRun(id: RunId, admission: Admission, at: number): Promise<void> {
    this.#write(() => {
      if ("error" in admission) {
        this.#sql.rejectAdmission.run(admission.error, at, at, id);
        return;
      }
      const { fields, delayMs } = admission;
      this.#sql.admit.run({
        id,
        at,
        queue: fields.queue ?? "default",
        priority: fields.priority ?? 0,
        concurrency_key: fields.concurrency?.key ?? null,
        concurrency_limit: fields.concurrency?.limit ?? null,
        rate_key: fields.rateLimit?.key ?? null,
        rate_limit: fields.rateLimit?.limit ?? null,
        rate_period_ms: fields.rateLimit?.periodMs ?? null,
        deadline_at: fields.deadlineAt ?? null,
        available_at: at + delayMs,
      });
    });
  }

  async setWorkflowPaused(workflow: string, paused: boolean, at: number): Promise<void> {
    this.#write(() => {
      if (paused) this.#sql.pauseWorkflow.run(workflow, at);
      else this.#sql.resumeWorkflow.run(workflow);
    });
  }

  async pausedWorkflows(): Promise<string[]> {
    return (this.#sql.pausedWorkflows.all() as { workflow: string }[]).map((r) => r.workflow);
  }

  readonly flows: Store["flows"] = sqliteFlows(
    () => this.#db,
    (fn) => this.#write(fn),
  );

  readonly schedules: Store["schedules"] = sqliteSchedules(
    () => this.#db,
    (fn) => this.#write(fn),
    (run) => this.#sql.insertRun.get(newRunParams(run, undefined)) !== undefined,
  );

  readonly #ui = sqliteUi(
    () => this.#db,
    (fn) => this.#write(fn),
    (run) => this.#sql.insertRun.get(newRunParams(run, undefined)) !== undefined,
  );
  readonly logs = this.#ui.logs;
  readonly workers = this.#ui.workers;
  readonly eventRuns = this.#ui.eventRuns;
  readonly tags = this.#ui.tags;
  childRunIds = this.#ui.childRunIds;
  createRunWithJournal = this.#ui.createRunWithJournal;

  async transactionalStep<T>(
    op: { runId: RunId; token: number; entry: JournalEntry },
    fn: (tx: unknown) => T | Promise<T>,
    serializeOutput: (value: T) => string,
  ): Promise<{ ok: true; value: T; output: string } | { ok: false; reason: "fenced" }> {
    return this.#write(() => transactionalStep(this.#db, this.#sql, op, fn, serializeOutput));
  }

  readonly tokens: Store["tokens"] = sqliteTokens(
    () => this.#sql,
    (fn) => this.#write(fn),
  );

  readonly rememberWebhookSignature = sqliteRememberWebhookSignature(
    () => this.#db,
    (fn) => this.#write(fn),
  );

  async migrations(): Promise<{ id: number; name: string; appliedAt: number }[]> {
    return this.#db
      .prepare("SELECT id, name, applied_at AS appliedAt FROM cairn_migrations ORDER BY id")
      .all() as { id: number; name: string; appliedAt: number }[];
  }

  #probe: ReturnType<typeof sqliteWriteProbe> | undefined;

  probeWrite(at: number): Promise<void> {
    this.#probe ??= sqliteWriteProbe(this.path, (time) =>
      this.#write(() => this.#db.prepare(writeProbeUpsert).run(time)),
    );
    return this.#probe.probe(at);
  }

  /** Other processes' commits wake the worker (data-version-watch.ts): no LISTEN in SQLite. */
  async subscribe(onWake: () => void): Promise<() => Promise<void>> {
    const stop = watchDataVersion(this.path, () => this.#db.open, onWake);
    return async () => stop();
  }

  async close(): Promise<void> {
    this.#probe?.close();
    if (this.#db.open) this.#db.close();
  }
}

type CreateResult = { run: RunRecord; created: boolean; debounced?: boolean };
