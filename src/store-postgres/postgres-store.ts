import type { Sql } from "postgres";
import type { RunId } from "../core/types.ts";
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
  SetOp,
  Store,
} from "../store/store.ts";
import { admitRuns, pendingAdmission } from "./admit-runs.ts";
import { cancelRun } from "./cancel-run.ts";
import { claimRuns, versionFilter } from "./claim-runs.ts";
import { commitBatch } from "./commit-batch.ts";
import { commitEntries, commitFinishes, UnlinkedRuns } from "./commit-one-statement.ts";
import { type Connect, storeConnector } from "./connect.ts";
import { commitWithContinuations } from "./continue-run.ts";
import { createOneRun } from "./create-run.ts";
import { deleteFinishedRuns } from "./delete-finished-runs.ts";
import { eventTriggers, setEventTriggers } from "./event-triggers.ts";
import { listRuns, searchRuns } from "./list-runs.ts";
import { appliedMigrations, migratePostgres } from "./migrate.ts";
import { pipelinedTransaction, retryingDeadlocks } from "./pipeline.ts";
import { postgresFlows } from "./postgres-flows.ts";
import { postgresSchedules } from "./postgres-schedules.ts";
import { postgresTokens } from "./postgres-tokens.ts";
import { postgresUi } from "./postgres-ui.ts";
import { queueStats } from "./queue-stats.ts";
import { type Hot, RecyclingPool } from "./recycling-pool.ts";
import { postgresRememberWebhookSignature } from "./remember-webhook-signature.ts";
import { retryRun } from "./retry-run.ts";
import { toEntry, toEvent, toRun } from "./rows.ts";
import { announceEnd, getRunAnnouncingEnd, onEndNotice } from "./run-end-notice.ts";
import { endedChannel, wakeChannel } from "./run-statements.ts";
import { sendEvent } from "./send-event.ts";
import { sendSignal } from "./send-signal.ts";
import { StartBatcher } from "./start-batcher.ts";
import { transactionalStep } from "./transactional-step.ts";
import { StoreListeners } from "./wake-listener.ts";
import { type OnWake, onWakeNotice } from "./wake-notice.ts";

export { wakeChannel };

export interface PostgresStoreOptions {
  /**
   * `postgres://user:password@host:5432/name`. A `schema` query parameter
   * (`…/name?schema=cairn`) is taken as the `schema` option.
   */
  url: string;
  /**
   * The schema that holds Cairn's tables: set as `search_path` on every connection and
   * created, with the tables, when missing. (Default: the server's `search_path`, usually
   * `public`)
   */
  schema?: string;
  /**
   * Pool size. A store uses at most `max + 2` connections: the pool, plus one dedicated to
   * `LISTEN` once `subscribe` is called (a worker subscribes), and one more once
   * `watchEnds` is (a `result()` waits for a run executing in another process, or a server
   * streams run updates). Budget the server's
   * `max_connections` as the sum over every process that opens a store. (Default: 10)
   */
  max?: number;
  /** Longest a statement may run before the server cancels it, in ms. (Default: 30_000) */
  statementTimeoutMs?: number;
  /**
   * Longest a statement waits for a row or advisory lock, in ms; also bounds each attempt
   * of a migration. A journal batch that waits longer fails instead of stalling every run
   * of the process behind it. (Default: 5_000)
   */
  lockTimeoutMs?: number;
  /**
   * A session idle inside a transaction this long is ended by the server, releasing its
   * locks: a paused or wedged process must not hold run rows forever. Also bounds idle time
   * inside `ctx.transaction`. (Default: 60_000)
   */
  idleInTransactionTimeoutMs?: number;
  /** How long to wait for a connection to open, in ms. (Default: 10_000) */
  connectTimeoutMs?: number;
  /** Apply missing migrations when the store opens. (Default: true) */
  migrate?: boolean;
  /** `application_name` of the connections, as `pg_stat_activity` shows it. (Default: "cairn") */
  applicationName?: string;
}

/**
 * The multi-process store: any number of worker processes on any number of hosts share
 * one PostgreSQL database, each through a bounded postgres.js pool.
 *
 * - Claims take due runs with `FOR UPDATE SKIP LOCKED`: concurrent claimers never wait for
 *   each other and never take the same run (`claim-runs.ts`).
 * - Journal batches (group commit) lock their run rows and write each kind of op for all
 *   runs with one set-based statement, pipelined: one round trip per batch
 *   (`commit-batch.ts`). Starts are grouped the same way (`start-batcher.ts`).
 * - Whatever makes a run claimable now notifies the schema's wake channel (delivered at COMMIT), and
 *   `subscribe` listens on it, so idle workers elsewhere start at once; they still poll.
 * - Times are parameters from the engine's clock, which follows the database's
 *   (`serverTime`), never `now()` in SQL.
 *
 * SQLite serializes every writer; here transactions run concurrently (READ COMMITTED), and
 * each race the engine depends on is serialized explicitly:
 * - an event vs. a run suspending on it: both take an advisory lock on the event name, so
 *   either the suspension finds the buffered event or the sender finds the wait;
 * - a signal vs. a run suspending on it: `sendSignal` locks the run row, which the
 *   suspending batch holds while it looks for buffered signals;
 * - a child finishing vs. its parent suspending on it: the child's batch locks the parent
 *   row before resolving the parent's `invoke` entry;
 * - cancel vs. a batch, a renewal or a signal: all lock the run rows; cancel bumps the
 *   fencing token under the lock, so whatever comes after it is fenced;
 * - concurrency limits: admission (count, park) and release (stop running, unpark) take the
 *   slot's advisory lock; debounced starts take the debounce key's.
 * Every transaction that waits for locks takes them in one global order (advisory locks,
 * then run rows by id), so none waits in a cycle; claims and retention never wait (SKIP
 * LOCKED, try-locks). Deadlock victims, should one occur anyway, are retried.
 */
export class PostgresStore implements Store {
  readonly capabilities = { skipLocked: true, notify: true, concurrentWriters: true };
  /** The postgres.js pool (a handle that follows `RecyclingPool`'s replacements); `close()` ends it. */
  readonly sql: Sql;
  readonly #pool: RecyclingPool;
  readonly schedules: Store["schedules"];
  readonly logs: Store["logs"];
  readonly workers: Store["workers"];
  readonly eventRuns: Store["eventRuns"];
  readonly tags: Store["tags"];
  readonly childRunIds: Store["childRunIds"];
  readonly createRunWithJournal: Store["createRunWithJournal"];
  readonly flows: Store["flows"];
  readonly #starts: StartBatcher;
  /** Starts created by a transaction of their own (debounced, idempotent). */
  #createdAlone = 0;
  readonly #unlinked = new UnlinkedRuns();
  /**
   * Statements that follow one another on a run's path (a start's insert, a worker's claim
   * pass, a step's commit) run on a kept connection: see `RecyclingPool.hot`.
   */
  readonly #hot: Hot = (statement) => this.#pool.hot(statement);
  readonly #listening: StoreListeners;

  /**
   * Wraps an open pool; {@link PostgresStore.open} also creates and migrates the schema.
   * `connect` opens another client with the same settings (the `LISTEN` connection).
   */
  constructor(pool: RecyclingPool, connect: Connect) {
    this.#pool = pool;
    const sql = pool.sql;
    this.sql = sql;
    // Sends no arrays: no type fetch on reconnects (see RecyclingPool.typesKnown).
    this.#listening = new StoreListeners(sql, () => connect({ max: 1, fetchTypes: false }));
    this.schedules = postgresSchedules(sql);
    const ui = postgresUi(sql);
    this.logs = ui.logs;
    this.workers = ui.workers;
    this.eventRuns = ui.eventRuns;
    this.tags = ui.tags;
    this.childRunIds = ui.childRunIds;
    this.createRunWithJournal = ui.createRunWithJournal;
    this.flows = postgresFlows(sql);
    this.#starts = new StartBatcher(sql, this.#hot);
  }

  /**
   * Connects, creates the schema if needed and applies missing migrations (under an
   * advisory lock: several processes may open the same database at once).
   */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    let url = options.url;
    let schema = options.schema;
    if (/[?&]schema=/.test(url)) {
      const parsed = new URL(url);
      schema ??= parsed.searchParams.get("schema") ?? undefined;
      parsed.searchParams.delete("schema");
      url = parsed.toString();
    }
    const connect = storeConnector(url, schema, options);
    const pool = new RecyclingPool((onclose) => connect({ max: options.max ?? 10, onclose }));
    try {
      if (options.migrate !== false) {
        await migratePostgres(pool.sql, { schema, lockTimeoutMs: options.lockTimeoutMs });
      } else {
        await pool.sql`SELECT 1`;
      }
      pool.typesKnown();
      await pool.warm(); // before any transaction: see RecyclingPool.warm
      return new PostgresStore(pool, connect);
    } catch (error) {
      await pool.end({ timeout: 1 }).catch(() => {});
      throw error;
    }
  }

  // ---- runs ----

  get createCommits(): number {
    return this.#starts.commits + this.#createdAlone;
  }

  async createRun(
    run: NewRun,
    claim?: { owner: string; leaseUntil: number },
  ): Promise<{ run: RunRecord; created: boolean; debounced?: boolean }> {
    const { debounce } = run;
    const debounced = debounce && !claim;
    // A run created claimed goes straight to this process's worker; any other notifies.
    const batched = !debounced && !run.idempotency;
    if (!batched) this.#createdAlone++;
    const started = batched
      ? await this.#starts.start(run, claim)
      : await createOneRun(this.sql, run, claim);
    if (claim && started.created) this.#unlinked.note([started.run]);
    return started;
  }

  async getRun(id: RunId): Promise<RunRecord | undefined> {
    const [row] = await this.sql`SELECT * FROM runs WHERE id = ${id}`;
    return row ? toRun(row) : undefined;
  }

  async listRuns(filter: RunFilter): Promise<RunRecord[]> {
    return listRuns(this.sql, filter);
  }

  async searchRuns(filter: RunFilter): Promise<RunSearch> {
    return searchRuns(this.sql, filter);
  }

  async getJournal(id: RunId): Promise<JournalEntry[]> {
    const rows = await this.sql`SELECT * FROM steps WHERE run_id = ${id} ORDER BY position`;
    return rows.map(toEntry);
  }

  async getJournals(ids: readonly RunId[]): Promise<Map<RunId, JournalEntry[]>> {
    const journals = new Map<RunId, JournalEntry[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return journals;
    const rows = await this.sql`SELECT * FROM steps WHERE run_id = ANY(${ids as RunId[]}::text[])
      ORDER BY run_id, position`;
    for (const row of rows) journals.get(row.run_id as RunId)?.push(toEntry(row));
    return journals;
  }

  // ---- leases and the journal ----

  async claimRuns(
    owner: string,
    scope: ClaimScope,
    now: number,
    leaseMs: number,
    limit: number,
  ): Promise<ClaimedRun[]> {
    const claimed = await claimRuns(this.sql, owner, scope, now, leaseMs, limit, this.#hot);
    this.#unlinked.note(claimed.map((c) => c.run));
    return claimed;
  }

  async renewLeases(
    owner: string,
    leases: readonly { runId: RunId; token: number }[],
    until: number,
  ): Promise<RunId[]> {
    if (leases.length === 0) return [];
    const ids = leases.map((l) => l.runId);
    const renewed = await pipelinedTransaction(this.sql, async (tx, send, commit) => {
      // Rows in id order first, as every other transaction locks them.
      void send(tx`SELECT 1 FROM runs WHERE id = ANY(${ids}::text[]) ORDER BY id FOR UPDATE`);
      const updated = send(tx`UPDATE runs r SET available_at = ${until}
        FROM unnest(${ids}::text[], ${leases.map((l) => l.token)}::bigint[]) AS v(id, token)
        WHERE r.id = v.id AND r.fencing_token = v.token AND r.status = 'running'
          AND r.lease_owner = ${owner}
        RETURNING r.id`);
      await commit();
      return updated;
    });
    const held = new Set(renewed.map((row) => row.id as string));
    return ids.filter((id) => !held.has(id));
  }

  async commit(ops: readonly JournalOp[]): Promise<JournalOpResult[]> {
    if (ops.length === 0) return [];
    if (ops.some((op) => op.type === "continue")) {
      return commitWithContinuations(this.sql, ops, (set) => this.commit(set));
    }
    const set = ops as readonly SetOp[]; // no continuation left (see above)
    if (set.every((op) => op.type === "entry")) {
      const results = await retryingDeadlocks(() => this.#hot((sql) => commitEntries(sql, set)));
      if (results) return results;
    }
    // Whatever path it takes, a run this batch stops is noted again at its next claim.
    const unlinked = this.#unlinked.covers(set);
    this.#unlinked.forgetStopped(set);
    if (unlinked) {
      const results = await retryingDeadlocks(() => this.#hot((sql) => commitFinishes(sql, set)));
      if (results) return results;
    }
    return pipelinedTransaction(this.sql, (tx, send, commit) => commitBatch(tx, send, commit, set));
  }

  async nextWakeAt(scope: ClaimScope): Promise<number | null> {
    const workflows = scope.workflows as string[];
    const queues = [...(scope.queues ?? ["default"])];
    const [row] = await this.#hot(
      // The earliest due run of each queue and workflow served: one index lookup each.
      (sql) => sql`SELECT min(at) AS at FROM (
        SELECT first.available_at AS at FROM unnest(${queues}::text[]) AS q(name),
          unnest(${workflows}::text[]) AS w(name), LATERAL (SELECT available_at FROM runs
            WHERE queue = q.name AND workflow = w.name AND available_at IS NOT NULL
              AND ${versionFilter(sql, scope)} ORDER BY available_at LIMIT 1) AS first
        WHERE w.name NOT IN (SELECT workflow FROM paused_workflows)
        UNION ALL SELECT min(next_at) FROM schedules
        WHERE NOT paused AND workflow = ANY(${workflows}::text[])) AS due`,
    );
    return row?.at == null ? null : Number(row.at);
  }

  // ---- outside input ----

  /** See `send-event.ts`: the event's lock makes it race-free with suspensions on it. */
  async sendEvent(
    event: EventRecord,
    starts: readonly NewRun[] = [],
  ): Promise<{ accepted: boolean; duplicate: boolean; woke: RunId[]; started: RunId[] }> {
    return sendEvent(this.sql, event, starts);
  }

  async listEvents(filter: {
    name?: string;
    before?: { createdAt: number; id: string };
    limit?: number;
  }): Promise<EventRecord[]> {
    const sql = this.sql;
    const rows = await sql`SELECT id, name, data, created_at FROM events WHERE TRUE
      ${filter.name === undefined ? sql`` : sql`AND name = ${filter.name}`}
      ${
        filter.before
          ? sql`AND (created_at, id) < (${filter.before.createdAt}::bigint, ${filter.before.id}::text)`
          : sql``
      }
      ORDER BY created_at DESC, id DESC LIMIT ${Math.min(filter.limit ?? 50, 1000)}`;
    return rows.map(toEvent);
  }

  /** See `send-signal.ts`: the run's row lock makes it race-free with its suspension. */
  async sendSignal(
    runId: RunId,
    name: string,
    payload: string | null,
    at: number,
  ): Promise<{ woke: boolean }> {
    return sendSignal(this.sql, runId, name, payload, at);
  }

  async setEventTriggers(
    workflow: string,
    triggers: readonly { event: string; condition: string }[],
    at: number,
  ): Promise<void> {
    await setEventTriggers(this.sql, workflow, triggers, at);
  }

  async eventTriggers(event: string): Promise<{ workflow: string; condition: string }[]> {
    return eventTriggers(this.sql, event);
  }

  async registerWorkflows(names: readonly string[], at: number): Promise<void> {
    if (names.length === 0) return;
    // Sorted: processes registering overlapping sets at once lock the rows in one order.
    const sorted = [...new Set(names)].sort();
    await retryingDeadlocks(
      () => this.sql`INSERT INTO workflows (name, seen_at)
        SELECT name, ${at}::bigint FROM unnest(${sorted}::text[]) AS name
        ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at`,
    );
  }

  async listWorkflows(): Promise<{ name: string; seenAt: number }[]> {
    const rows = await this.sql`SELECT name, seen_at FROM workflows ORDER BY name`;
    return rows.map((row) => ({ name: row.name as string, seenAt: Number(row.seen_at) }));
  }

  async pendingAdmission(workflows: readonly string[], limit: number): Promise<RunRecord[]> {
    if (workflows.length === 0) return [];
    return this.#hot((sql) => pendingAdmission(sql, workflows, limit));
  }

  async admitRuns(admissions: readonly RunAdmission[], at: number): Promise<AdmissionOutcome> {
    const outcome = await this.#hot((sql) => admitRuns(sql, admissions, at));
    // Runs an admission takes finish as a claim's do: in one statement when unlinked.
    this.#unlinked.note(outcome.claimed.map((c) => c.run));
    return outcome;
  }

  async setWorkflowPaused(workflow: string, paused: boolean, at: number): Promise<void> {
    if (paused) {
      await this.sql`INSERT INTO paused_workflows (workflow, paused_at)
        VALUES (${workflow}, ${at}) ON CONFLICT DO NOTHING`;
    } else {
      // Its due runs are claimable again: wake the workers.
      await this.sql`WITH resumed AS (
          DELETE FROM paused_workflows WHERE workflow = ${workflow} RETURNING workflow)
        SELECT pg_notify(${this.sql.unsafe(wakeChannel)}, workflow) AS notified FROM resumed`;
    }
  }

  async pausedWorkflows(): Promise<string[]> {
    const rows = await this.sql`SELECT workflow FROM paused_workflows ORDER BY workflow`;
    return rows.map((row) => row.workflow as string);
  }

  // ---- operations ----

  /** See `cancel-run.ts`. */
  async cancelRun(id: RunId, error: string, at: number): Promise<RunId[]> {
    return cancelRun(this.sql, id, error, at);
  }

  async retryRun(id: RunId, at: number, deadlineAt: number | null): Promise<RunRecord> {
    return retryRun(this.sql, id, at, deadlineAt);
  }

  async queueStats(now: number): Promise<QueueStats> {
    return queueStats(this.sql, now);
  }

  deleteFinishedRuns(before: number, limit?: number): Promise<number> {
    return deleteFinishedRuns(this.sql, before, limit);
  }

  /**
   * A `ctx.transaction` step: `fn`'s writes and its checkpoint commit in one transaction,
   * fenced under the run row's lock (see transactional-step.ts).
   */
  async transactionalStep<T>(
    op: { runId: RunId; token: number; entry: JournalEntry },
    fn: (tx: unknown) => T | Promise<T>,
    serializeOutput: (value: T) => string,
  ): Promise<{ ok: true; value: T; output: string } | { ok: false; reason: "fenced" }> {
    return transactionalStep(this.sql, op, fn, serializeOutput);
  }

  /** API tokens, for the HTTP server (not part of `Store`). */
  readonly tokens = postgresTokens(() => this.sql);
  readonly rememberWebhookSignature = postgresRememberWebhookSignature(() => this.sql);

  async probeWrite(at: number): Promise<void> {
    await this.sql`INSERT INTO write_probes (id, probed_at) VALUES (1, ${at})
      ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at`;
  }
  // ---- time, wake-ups, lifecycle ----

  /** The database's clock (`clock_timestamp()`, not the transaction's `now()`), in ms. */
  async serverTime(): Promise<number> {
    const [row] = await this.sql`SELECT
      (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now`;
    return row?.now as number;
  }

  /**
   * Listens on the schema's wake channel on a dedicated connection (one of the `+ 2`),
   * checked every few seconds and replaced when it went deaf (see `WakeListener`); `onWake`
   * is also called, without a reason, whenever it restarts. Hints only: the worker polls.
   */
  subscribe(onWake: OnWake): Promise<() => Promise<void>> {
    return this.#listening.listen(wakeChannel, onWakeNotice(onWake));
  }

  /**
   * Listens on the schema's channel of ended runs (a trigger announces each, see migrations
   * 0012 and 0015) on a connection of its own; a restarted listener calls `onEnded` without
   * ids (ends announced meanwhile were lost).
   */
  watchEnds(
    onEnded: (runIds?: readonly RunId[], outcomes?: ReadonlyMap<RunId, RunOutcome>) => void,
  ): Promise<() => Promise<void>> {
    return this.#listening.listen(endedChannel, onEndNotice(onEnded));
  }

  // Runs created claimed are not announced unless asked (see migration 0012).
  announceEnd = (id: RunId): Promise<void> => this.#hot((sql) => announceEnd(sql, id));
  getRunAnnouncingEnd = (id: RunId): Promise<{ run: RunRecord | undefined; announced: boolean }> =>
    this.#hot((sql) => getRunAnnouncingEnd(sql, id));

  migrations(): Promise<{ id: number; name: string; appliedAt: number }[]> {
    return appliedMigrations(this.sql);
  }

  async close(): Promise<void> {
    await this.#listening.close();
    await this.#pool.end({ timeout: 5 });
  }
}
