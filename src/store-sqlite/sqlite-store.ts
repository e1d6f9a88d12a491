import type Database from "better-sqlite3";
import { serializeAnyOutcome } from "../core/any-outcome.ts";
import { CairnError } from "../core/errors.ts";
import { isTerminal, type RunId } from "../core/types.ts";
import { yieldToEventLoop } from "../core/yield-to-event-loop.ts";
import type {
  AdmissionOutcome,
  ClaimedRun,
  ClaimScope,
  EventRecord,
  JournalEntry,
  JournalOp,
  JournalOpResult,
  NewRun,
  QueueStats,
  RunAdmission,
  RunFilter,
  RunOutcome,
  RunRecord,
  RunSearch,
  Store,
  WakeReason,
  WriteLockWait,
} from "../store/store.ts";
import { admitRuns } from "./admit-runs.ts";
import { anyClaimable, claimRuns } from "./claim-runs.ts";
import { applyOp, freeSlot, resolveParent, toEvent } from "./commit-batch.ts";
import { CommitDoorbell } from "./commit-doorbell.ts";
import { type CreateResult, createOneRun } from "./create-one-run.ts";
import { watchDataVersion } from "./data-version-watch.ts";
import { endedRunsReader } from "./ended-runs-reader.ts";
import { listRuns, searchRuns } from "./list-runs.ts";
import { defaultBusyTimeoutMs, openDatabase, type SqliteStoreOptions } from "./open-database.ts";
import { sqliteRememberWebhookSignature } from "./remember-webhook-signature.ts";
import { newRunParams, toEntryRow, toRun } from "./rows.ts";
import { sendEvent } from "./send-event.ts";
import { sqliteFlows } from "./sqlite-flows.ts";
import { sqliteSchedules } from "./sqlite-schedules.ts";
import { sqliteTokens } from "./sqlite-tokens.ts";
import { sqliteUi } from "./sqlite-ui.ts";
import { prepareStatements } from "./statements.ts";
import { isStorageFault } from "./storage-error.ts";
import { transactionalStep } from "./transactional-step.ts";
import { WriteLock } from "./write-lock.ts";
import { sqliteWriteProbe, writeProbeUpsert } from "./write-probe.ts";

export type { SqliteStoreOptions } from "./open-database.ts";

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
  readonly #lock: WriteLock;
  readonly #doorbell: CommitDoorbell;
  #pendingCreates: {
    run: NewRun;
    claim: { owner: string; leaseUntil: number } | undefined;
    resolve: (result: CreateResult) => void;
    reject: (error: unknown) => void;
  }[] = [];
  /** A batch of creates is committing: new ones wait for the next. */
  #creating = false;
  #createCommits = 0;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    this.#db = openDatabase(path, options);
    this.#sql = prepareStatements(this.#db);
    this.#doorbell = new CommitDoorbell(this.#db, {
      queued: (fn) => this.#write(fn),
      tryNow: (fn) => this.#lock.tryNow(fn),
    });
    this.#lock = new WriteLock(this.#db, path, {
      timeoutMs: options.busyTimeoutMs ?? defaultBusyTimeoutMs,
      warnAfterMs: options.lockWarnMs ?? 5_000,
    });
  }

  /**
   * Runs `fn` in an immediate (write-locking) transaction, waiting for another process's
   * lock without blocking the event loop (`WriteLock`).
   */
  #write<T>(fn: () => T, synced = true): Promise<T> {
    return this.#lock.run(fn, synced);
  }

  /**
   * A write, and when `ring`, one other processes act on (a run created unclaimed, ended,
   * cancelled or queued again, an event): rings them after its commit (commit-doorbell.ts),
   * saying `"admission"` when its only news is runs awaiting admission. Steps' entries do not
   * ring: a busy worker commits them hundreds of times a second, and nobody elsewhere waits
   * on them.
   */
  async #writeAndRing<T>(fn: () => T, ring: boolean | WakeReason = true): Promise<T> {
    const value = await this.#write(fn);
    if (ring) this.#doorbell.ring(ring === true ? undefined : ring);
    return value;
  }

  /** Hears waits for another process's write lock past `lockWarnMs`; returns the function that stops it. */
  onWriteLockWait(listener: (wait: WriteLockWait) => void): () => void {
    return this.#lock.onWait(listener);
  }

  /**
   * Creates a run. Starts made in the same turn of the event loop share one transaction
   * (one fsync), as journal writes do: 200 runs started at once cost one commit, not 200.
   * Starts made while a batch is still committing (waiting for another process's write
   * lock, say) join the next batch rather than queue a transaction each: a `cairn server`
   * whose HTTP starts arrive one per turn, beside a worker holding the lock, paid one fsync
   * and one lock wait per run.
   */
  createRun(
    run: NewRun,
    claim?: { owner: string; leaseUntil: number },
  ): Promise<{ run: RunRecord; created: boolean; debounced?: boolean }> {
    return new Promise((resolve, reject) => {
      this.#pendingCreates.push({ run, claim, resolve, reject });
      if (this.#pendingCreates.length === 1 && !this.#creating) {
        setImmediate(() => void this.#flushCreates());
      }
    });
  }

  get createCommits(): number {
    return this.#createCommits;
  }

  async #flushCreates(): Promise<void> {
    this.#creating = true;
    try {
      await this.#createBatch();
    } finally {
      this.#creating = false;
      if (this.#pendingCreates.length > 0) setImmediate(() => void this.#flushCreates());
    }
  }

  async #createBatch(): Promise<void> {
    const batch = this.#pendingCreates;
    this.#pendingCreates = [];
    let outcomes: ({ ok: true; value: CreateResult } | { ok: false; error: unknown })[];
    try {
      this.#createCommits++;
      // Runs created claimed run here: only unclaimed ones are news to other processes, and
      // those a `cairn server` started only need admitting.
      const unclaimed = batch.filter((create) => !create.claim);
      const ring =
        unclaimed.length > 0 &&
        (unclaimed.every(({ run }) => run.admitted === false) ? "admission" : true);
      outcomes = await this.#writeAndRing(
        () =>
          batch.map(({ run, claim }) => {
            try {
              return { ok: true as const, value: createOneRun(this.#sql, run, claim) };
            } catch (error) {
              // After a full disk or an I/O error SQLite may have rolled the whole transaction
              // back: the next inserts would commit one by one. The batch fails as a whole.
              if (isStorageFault(error) || !this.#db.inTransaction) throw error;
              return { ok: false as const, error };
            }
          }),
        ring,
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

  async getRun(id: RunId): Promise<RunRecord | undefined> {
    const row = this.#sql.getRun.get(id);
    return row ? toRun(row) : undefined;
  }

  async listRuns(filter: RunFilter): Promise<RunRecord[]> {
    return listRuns(this.#db, filter);
  }

  async searchRuns(filter: RunFilter): Promise<RunSearch> {
    return searchRuns(this.#db, filter);
  }

  async getJournal(id: RunId): Promise<JournalEntry[]> {
    return this.#sql.getJournal.all(id).map(toEntryRow);
  }

  async getJournals(ids: readonly RunId[]): Promise<Map<RunId, JournalEntry[]>> {
    // Reads of the local file: one statement per run costs no round trip here.
    return new Map(ids.map((id) => [id, this.#sql.getJournal.all(id).map(toEntryRow)]));
  }

  async claimRuns(
    owner: string,
    scope: ClaimScope,
    now: number,
    leaseMs: number,
    limit: number,
  ): Promise<ClaimedRun[]> {
    if (limit <= 0 || scope.workflows.length === 0) return [];
    if (!anyClaimable(this.#sql, scope, now)) return [];
    // Unsynced: a claim guards against the other processes on this file, and a power loss,
    // the one thing it may not survive, ends them all. A later synced commit (the run's
    // first step) takes it to the disk first: the WAL is one log, written in order.
    return this.#write(() => claimRuns(this.#sql, owner, scope, now, leaseMs, limit), false);
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
    // Ends and requeues are news to other processes; step entries and suspensions are not.
    const news = ops.some((op) => op.type !== "entry" && op.type !== "suspend");
    return this.#writeAndRing(() => ops.map((op) => applyOp(this.#sql, op)), news);
  }

  async nextWakeAt(scope: ClaimScope): Promise<number | null> {
    const row = this.#sql.nextWake.get({
      workflows: JSON.stringify(scope.workflows),
      queues: JSON.stringify(scope.queues ?? ["default"]),
      versions: scope.versions ? JSON.stringify(scope.versions) : null,
    }) as { at: number | null };
    return row.at;
  }

  async sendEvent(event: EventRecord, starts: readonly NewRun[] = []) {
    return this.#writeAndRing(() => sendEvent(this.#sql, event, starts));
  }

  async sendSignal(runId: RunId, name: string, payload: string | null, at: number) {
    // A signal may wake a run another process's worker is to claim.
    return this.#writeAndRing(() => {
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
      const wait = this.#sql.signalWait.get(runId, name) as
        | { position: number; alt: number }
        | undefined;
      if (!wait) return { woke: false };
      this.#sql.consumeSignal.run(at, seq);
      const output = wait.alt > 0 ? serializeAnyOutcome("signal", name, payload) : payload;
      this.#sql.resolveEntry.run("completed", output, null, at, runId, wait.position);
      this.#sql.deleteWait.run(runId, wait.position);
      this.#sql.wakeRun.run(at, at, runId);
      return { woke: true };
    });
  }

  async cancelRun(id: RunId, error: string, at: number): Promise<RunId[]> {
    return this.#writeAndRing(() => {
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
    return this.#writeAndRing(() => {
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

  async deleteFinishedRuns(before: number, limit?: number): Promise<number> {
    // One bounded transaction: the runs, and the idempotency keys they held (a key row left
    // behind would outlive its run forever, one per distinct key ever used).
    const deleteChunk = (size: number) =>
      this.#write(() => {
        const ids = (this.#sql.deleteFinished.all(before, size) as { id: string }[]).map(
          (r) => r.id,
        );
        if (ids.length > 0) this.#sql.deleteKeysOf.run(JSON.stringify(ids));
        return ids.length;
      });
    if (limit !== undefined) return deleteChunk(limit);
    // All of them, in chunks: the loop and the write lock let go between them (one statement
    // held both for seconds).
    const chunk = 500;
    let deleted = 0;
    for (;;) {
      const count = await deleteChunk(chunk);
      deleted += count;
      if (count < chunk) return deleted;
      await yieldToEventLoop();
    }
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
    await this.#write(() => {
      this.#sql.deleteTriggers.run(workflow);
      for (const t of triggers) this.#sql.insertTrigger.run(workflow, t.event, t.condition, at);
    });
  }

  async eventTriggers(event: string): Promise<{ workflow: string; condition: string }[]> {
    return this.#sql.triggersFor.all(event) as { workflow: string; condition: string }[];
  }

  async registerWorkflows(names: readonly string[], at: number): Promise<void> {
    if (names.length === 0) return;
    await this.#write(() => {
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

  async admitRuns(admissions: readonly RunAdmission[], at: number): Promise<AdmissionOutcome> {
    if (admissions.length === 0) return { claimed: [], unclaimed: 0, failed: [] };
    // Unsynced as claims are, unless it fails runs: an outcome someone may read and act on.
    const synced = admissions.some(({ admission }) => "error" in admission);
    const outcome = await this.#write(() => admitRuns(this.#sql, admissions, at), synced);
    // Runs admitted and not taken here are claimable by other workers, and failed ones have
    // ended: news that no ring of an admission pass may hide (see data-version-watch.ts).
    // Runs another worker admitted first are no news: that worker rang for them if need be.
    if (outcome.unclaimed > 0 || outcome.failed.length > 0) this.#doorbell.ring();
    return outcome;
  }

  async setWorkflowPaused(workflow: string, paused: boolean, at: number): Promise<void> {
    await this.#writeAndRing(() => {
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

  // Fired and backfilled slots are runs for any process's worker: schedule writes ring.
  readonly schedules: Store["schedules"] = sqliteSchedules(
    () => this.#db,
    (fn) => this.#writeAndRing(fn),
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

  /** API tokens, for the HTTP server (not part of `Store`). */
  readonly tokens = sqliteTokens(
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

  /** Other processes' commits wake the worker (data-version-watch.ts), for admissions alone where rung so. */
  async subscribe(onWake: (reason?: WakeReason) => void): Promise<() => Promise<void>> {
    return this.#watchOthers(onWake, true);
  }

  /** SQLite announces nothing: after another connection's commit, a read of the awaited runs. */
  async watchEnds(
    onEnded: (runIds?: readonly RunId[], outcomes?: ReadonlyMap<RunId, RunOutcome>) => void,
    awaited: () => readonly RunId[],
  ): Promise<() => Promise<void>> {
    const reader = endedRunsReader(this.#db, onEnded, awaited);
    const stop = await this.#watchOthers(reader.onCommit);
    return async () => {
      reader.stop();
      await stop();
    };
  }

  /** Resolves once others' commits ring this one (or cannot); `admits`: for admissions too. */
  async #watchOthers(onChange: (reason?: WakeReason) => void, admits = false) {
    const othersVersion = this.#db.prepare("PRAGMA data_version").pluck();
    const stop = watchDataVersion(this.path, () => this.#db.open, onChange, {
      othersVersion: () => othersVersion.get(),
      rings: (onRing) => this.#doorbell.listen(onRing, { admits }),
    });
    await this.#doorbell.registered();
    return async () => stop();
  }

  async close(): Promise<void> {
    this.#probe?.close();
    this.#doorbell.close();
    if (this.#db.open) this.#db.close();
  }
}
