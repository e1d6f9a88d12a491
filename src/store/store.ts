import type { RunId, RunStatus } from "../core/types.ts";
import type { CatchupPolicy, OverlapPolicy } from "../core/workflow.ts";
import type { FlowStore } from "./flow-store.ts";
import type { JournalEntry, NewRun, RunRecord } from "./run-records.ts";
import type { UiStore } from "./ui-store.ts";

export type { JournalEntry, NewRun, RunRecord } from "./run-records.ts";

/** What a worker with the code decided for an unadmitted run. */
export type Admission =
  | {
      fields: Pick<
        NewRun,
        "queue" | "priority" | "concurrency" | "rateLimit" | "deadlineAt" | "workflowVersion"
      >;
      delayMs: number;
    }
  | { error: string };

/** One run's admission, for `admitRuns`. */
export interface RunAdmission {
  id: RunId;
  admission: Admission;
}

/** Which runs a worker takes. */
export interface ClaimScope {
  workflows: readonly string[];
  /** (Default: ["default"]) */
  queues?: readonly string[];
  /**
   * `name@version` of every workflow version the worker has: runs of other versions are
   * left for workers that have them. (Default: any version)
   */
  versions?: readonly string[];
  /**
   * How many suspects this claim may take: runs taken over again after a worker already
   * died running them (`crash_count` ≥ 1). A worker takes at most one at a time, so runs
   * that merely shared a process with a poison run are not killed with it again.
   * (Default: no limit)
   */
  suspects?: number;
}

export type { CatchupPolicy, OverlapPolicy } from "../core/workflow.ts";

export interface ScheduleRecord {
  id: string;
  workflow: string;
  cron: string;
  tz: string;
  input: string | null;
  overlap: OverlapPolicy;
  catchup: CatchupPolicy;
  paused: boolean;
  /** The next slot not yet handled. */
  nextAt: number;
  /** `trigger` for schedules declared by a workflow's cron trigger, `api` otherwise. */
  source: "trigger" | "api";
  createdAt: number;
  updatedAt: number;
}

/** What the scheduler decided for one due schedule: the runs to create and the next slot. */
export interface SchedulePlan {
  runs: NewRun[];
  nextAt: number;
}

/** A run this worker now owns, with the token its writes must carry. */
export interface ClaimedRun {
  run: RunRecord;
  token: number;
  /** The run was running under another lease that had expired (a crashed or lost worker). */
  takeover?: boolean;
  /**
   * Takeovers in a row that found no journal entry added since the claim before: each is
   * a worker that died (or lost the lease) running this run without progress.
   */
  crashes?: number;
}

/** What a suspended run waits for; registered when the run lets go of its lease. */
export type WaitRegistration =
  | { kind: "sleep"; position: number; key: string; wakeAt: number }
  | {
      kind: "event";
      position: number;
      key: string;
      event: string;
      match: Record<string, unknown> | null;
      timeoutAt: number | null;
    }
  | { kind: "signal"; position: number; key: string; signal: string; timeoutAt: number | null }
  | { kind: "invoke"; position: number; key: string; childId: RunId }
  /** `ctx.waitForAny`: the first of these events and signals, or the timeout. */
  | {
      kind: "any";
      position: number;
      key: string;
      events: { event: string; match: Record<string, unknown> | null }[];
      signals: string[];
      timeoutAt: number | null;
    }
  /** A step between attempts; its `retrying` entry already holds the time of the next one. */
  | { kind: "retry"; position: number; key: string; wakeAt: number };

/** One write of the group-commit journal writer; all ops of a batch share one transaction. */
export type JournalOp =
  | { type: "entry"; runId: RunId; token: number; entry: JournalEntry }
  | { type: "complete"; runId: RunId; token: number; output: string; at: number }
  | { type: "fail"; runId: RunId; token: number; error: string; at: number }
  | {
      type: "suspend";
      runId: RunId;
      token: number;
      waits: WaitRegistration[];
      /** Earliest wake-up among the waits and the run deadline; null waits only for outside input. */
      availableAt: number | null;
      at: number;
    }
  | { type: "release"; runId: RunId; token: number; at: number }
  /**
   * `ctx.continueAsNew`: the run completes (no output) and `successor` is created in the
   * same transaction, linked both ways (`continuedTo`, `continuedFrom`), with the run's tags.
   * A child's successor carries its parent link: the parent is resolved by the last run of
   * the chain, not by this one.
   */
  | { type: "continue"; runId: RunId; token: number; successor: NewRun; at: number };

/** The journal ops but continue-as-new (which PostgreSQL applies in a transaction of its own). */
export type SetOp = Exclude<JournalOp, { type: "continue" }>;

/** `fenced`: the run is no longer this worker's (lease lost or run cancelled). */
export type JournalOpResult =
  | { ok: true; status?: RunStatus }
  | { ok: false; reason: "fenced"; status: RunStatus | null };

export interface RunFilter {
  workflow?: string;
  status?: RunStatus;
  parentId?: RunId;
  createdAfter?: number;
  createdBefore?: number;
  /** Keyset cursor: runs created before this `(createdAt, id)`. */
  before?: { createdAt: number; id: RunId };
  /** Change feed: runs whose row changed after this time, oldest change first. */
  updatedAfter?: number;
  /** Runs whose id starts with this. */
  idPrefix?: string;
  /** Runs carrying every one of these tags. */
  tags?: readonly { key: string; value: string }[];
  /**
   * Runs whose input or output JSON holds these values at these paths (`searchRuns` only).
   * No index covers them: they are checked on at most `scanLimit` runs, the newest that
   * match the other (indexed) fields after the cursor.
   */
  where?: readonly RunWhere[];
  /** How many runs a `where` search examines per call. (Default: 10_000; at most 100_000) */
  scanLimit?: number;
  limit?: number;
}

/** `input.customer.id:c-17`: the value at a JSON path of the run's input or output. */
export interface RunWhere {
  source: "input" | "output";
  /** Object keys, and array indexes as numbers. */
  path: readonly (string | number)[];
  /** Matches a JSON string equal to it, or a number, boolean or null written this way. */
  value: string;
}

/** What a `where` search found, and how far it looked. */
export interface RunSearch {
  runs: RunRecord[];
  /**
   * The last run examined when the scan stopped at `scanLimit` before the page was full:
   * older runs were not looked at; pass it as `before` to go on. Null when nothing is left.
   */
  scannedTo: { createdAt: number; id: RunId } | null;
}

/** How much work is due and how long the oldest due run has waited. */
export interface QueueStats {
  /** Runs whose `availableAt` has passed and that no worker holds (queued, or woken). */
  due: number;
  /** The earliest `availableAt` among them, or null. */
  oldestDueAt: number | null;
  /** Runs executing now (leased). */
  running: number;
  /** Runs suspended on a sleep, event, signal or child. */
  waiting: number;
}

export interface EventRecord {
  id: string;
  name: string;
  data: string | null;
  createdAt: number;
}

export type TokenRole = "admin" | "operator" | "viewer";

/** An API token as stored: the secret itself is never kept, only its SHA-256 hash. */
export interface TokenRecord {
  id: string;
  name: string;
  role: TokenRole;
  secretHash: string;
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
  /** When the token stops working; null: never. */
  expiresAt: number | null;
}

export interface StoreCapabilities {
  /** Claims skip rows locked by other transactions (`FOR UPDATE SKIP LOCKED`). */
  skipLocked: boolean;
  /** Other processes can be woken with a notification (`LISTEN/NOTIFY`). */
  notify: boolean;
  /** Several processes may write at once without serializing on one lock. */
  concurrentWriters: boolean;
}

/**
 * Everything the engine needs from a database. The worker never knows which one it
 * talks to; the conformance suite (`conformance*.ts`, run by `runStoreConformance`) holds
 * every adapter to one contract.
 * Times are parameters (ms since the epoch from the injected Clock), never read in SQL.
 */
export interface Store extends UiStore {
  readonly capabilities: StoreCapabilities;

  /** Creates a run, or returns the existing one with that id (`created: false`). */
  createRun(
    run: NewRun,
    claim?: { owner: string; leaseUntil: number },
  ): Promise<{ run: RunRecord; created: boolean; debounced?: boolean }>;
  getRun(id: RunId): Promise<RunRecord | undefined>;
  listRuns(filter: RunFilter): Promise<RunRecord[]>;
  /** `listRuns` with `filter.where` conditions on input/output JSON, over a bounded scan. */
  searchRuns(filter: RunFilter): Promise<RunSearch>;
  getJournal(id: RunId): Promise<JournalEntry[]>;
  /**
   * The journals of several runs in one read (a run without entries maps to `[]`): a worker
   * that claimed a batch loads them in one round trip, not one per run.
   */
  getJournals(ids: readonly RunId[]): Promise<Map<RunId, JournalEntry[]>>;

  /**
   * Claims up to `limit` runs whose `availableAt <= now`, among `workflows`, leasing them
   * to `owner` until `now + leaseMs` with a new fencing token. Waits that are due by `now`
   * (sleeps, timeouts) resolve in the same transaction.
   */
  claimRuns(
    owner: string,
    scope: ClaimScope,
    now: number,
    leaseMs: number,
    limit: number,
  ): Promise<ClaimedRun[]>;
  /** Extends the leases still held; returns the ids this owner no longer holds. */
  renewLeases(
    owner: string,
    leases: readonly { runId: RunId; token: number }[],
    until: number,
  ): Promise<RunId[]>;
  /** Applies a batch of journal writes in one transaction; each op is fenced on its own. */
  commit(ops: readonly JournalOp[]): Promise<JournalOpResult[]>;
  /** The earliest `availableAt` after `now` among `workflows`, for the worker's wake timer. */
  nextWakeAt(scope: ClaimScope): Promise<number | null>;

  /**
   * Stores an event once per id, resolves the waits it matches and creates `starts` (the
   * runs of workflows it triggers) in the same transaction; a duplicate id does nothing.
   */
  sendEvent(
    event: EventRecord,
    starts?: readonly NewRun[],
  ): Promise<{ accepted: boolean; duplicate: boolean; woke: RunId[]; started: RunId[] }>;
  listEvents(filter: {
    name?: string;
    before?: { createdAt: number; id: string };
    limit?: number;
  }): Promise<EventRecord[]>;

  /** Replaces a workflow's event triggers (conditions are jsonata expressions, '' for none). */
  setEventTriggers(
    workflow: string,
    triggers: readonly { event: string; condition: string }[],
    at: number,
  ): Promise<void>;
  eventTriggers(event: string): Promise<{ workflow: string; condition: string }[]>;

  /** Records that a process runs these workflows, so code-less processes may start them by name. */
  registerWorkflows(names: readonly string[], at: number): Promise<void>;
  listWorkflows(): Promise<{ name: string; seenAt: number }[]>;
  /** Unadmitted runs of these workflows, oldest first. */
  pendingAdmission(workflows: readonly string[], limit: number): Promise<RunRecord[]>;
  /**
   * Admits runs (flow-control columns set, claimable after `delayMs`) or fails them, in one
   * transaction: a worker admitting a hundred runs started elsewhere pays one commit, not a
   * hundred. A run no longer waiting for admission (another worker admitted it) is skipped.
   */
  admitRuns(admissions: readonly RunAdmission[], at: number): Promise<void>;

  /** A paused workflow's runs are not claimed (they wait in the store) until it is resumed. */
  setWorkflowPaused(workflow: string, paused: boolean, at: number): Promise<void>;
  pausedWorkflows(): Promise<string[]>;

  /** Versioned flow documents (YAML/JSON DAGs). */
  flows: FlowStore;

  schedules: {
    /** Creates or replaces a schedule; `nextAt` is kept when the cron and zone are unchanged. */
    upsert(
      schedule: Omit<ScheduleRecord, "createdAt" | "updatedAt" | "paused"> & { paused?: boolean },
      at: number,
    ): Promise<ScheduleRecord>;
    get(id: string): Promise<ScheduleRecord | undefined>;
    list(): Promise<ScheduleRecord[]>;
    /** @throws CairnError `NOT_FOUND` */
    setPaused(id: string, paused: boolean, at: number, nextAt?: number): Promise<ScheduleRecord>;
    delete(id: string): Promise<boolean>;
    /**
     * Locks up to `limit` due schedules (`next_at <= now`, not paused) and applies `plan` to
     * each: its runs are created (one per schedule slot at most, enforced by a unique index)
     * and `next_at` moves on, in one transaction. Safe with many schedulers.
     */
    fireDue(
      now: number,
      limit: number,
      plan: (schedule: ScheduleRecord, hasActiveRun: boolean) => SchedulePlan,
      /** Only schedules of these workflows (the process needs their definitions). */
      workflows?: readonly string[],
    ): Promise<{ schedules: number; created: RunId[] }>;
    /** Creates the given slot runs (existing slots are left alone); returns the new ids. */
    createRuns(runs: readonly NewRun[]): Promise<RunId[]>;
  };
  /** Buffers a signal for a run, or hands it to a run waiting for it. */
  sendSignal(
    runId: RunId,
    name: string,
    payload: string | null,
    at: number,
  ): Promise<{ woke: boolean }>;
  /** Cancels a run and its descendants; returns the ids that were cancelled. */
  cancelRun(id: RunId, error: string, at: number): Promise<RunId[]>;
  /**
   * Puts a failed or cancelled run back in the queue: its failed entries are dropped (those
   * steps run again), completed ones are kept. `deadlineAt` replaces the old deadline.
   * @throws CairnError `RUN_NOT_FOUND`, or `INVALID_STATE` when the run is not failed/cancelled.
   */
  retryRun(id: RunId, at: number, deadlineAt: number | null): Promise<RunRecord>;
  queueStats(now: number): Promise<QueueStats>;
  /**
   * Deletes finished runs (completed, failed, cancelled) that finished before `before`, with
   * their journals, waits, signals, tags and log lines; returns how many. With `limit`, at
   * most that many — the oldest — in one short transaction (retention's chunks); without,
   * all of them, chunk by chunk.
   */
  deleteFinishedRuns(before: number, limit?: number): Promise<number>;

  /**
   * Runs a step's function inside a database transaction that also records the step's
   * outcome (fenced like any journal write), so the function's own writes commit exactly
   * once with the checkpoint (G2). `fn` receives the adapter's transaction handle
   * (PostgreSQL: a postgres.js `TransactionSql`; SQLite: the better-sqlite3 `Database`,
   * and `fn` must then be synchronous). On `fenced`, nothing was committed.
   */
  transactionalStep<T>(
    op: { runId: RunId; token: number; entry: JournalEntry },
    fn: (tx: unknown) => T | Promise<T>,
    serializeOutput: (value: T) => string,
  ): Promise<{ ok: true; value: T; output: string } | { ok: false; reason: "fenced" }>;

  /** API tokens for the HTTP server (`cairn tokens create|list|revoke`). */
  tokens: {
    create(
      token: Omit<TokenRecord, "revokedAt" | "lastUsedAt" | "expiresAt"> & {
        expiresAt?: number | null;
      },
    ): Promise<void>;
    /** Records a use at `at` (never moving it backwards). */
    touch(id: string, at: number): Promise<void>;
    list(): Promise<TokenRecord[]>;
    /** Marks a token revoked; false when no such active token exists. */
    revoke(id: string, at: number): Promise<boolean>;
    /** The active (not revoked) token with this secret hash, if any. */
    findActiveByHash(secretHash: string): Promise<TokenRecord | undefined>;
    /** True when any active token exists: the server then requires auth even on loopback. */
    anyActive(): Promise<boolean>;
  };

  /**
   * Records a webhook signature (`key`) as used until `expiresAt` (ms); false when it
   * already is: a replay. Forgets signatures expired by `now`. Every server on the database
   * shares these, so a restart or a second server refuses a replay too.
   */
  rememberWebhookSignature(key: string, expiresAt: number, now: number): Promise<boolean>;

  /**
   * The database's clock in ms since the epoch, where the database keeps the time for all
   * workers (PostgreSQL `clock_timestamp()`). Absent for embedded stores.
   */
  serverTime?(): Promise<number>;

  /**
   * Calls `onWake` whenever another process makes work due (PostgreSQL `LISTEN/NOTIFY`).
   * Resolves to an unsubscribe function. Absent where there is no such channel; the worker
   * then relies on its poll.
   */
  subscribe?(onWake: () => void): Promise<() => Promise<void>>;

  /**
   * Hears waits for another process's write lock longer than the store's warning threshold
   * (SQLite, whose writers share one lock). Returns the function that stops it.
   */
  onWriteLockWait?(listener: (wait: WriteLockWait) => void): () => void;

  /**
   * Writes one row of `write_probes`: proves the database takes writes now (readiness).
   * Fails at once, or within the store's own limits, when it cannot.
   */
  probeWrite(at: number): Promise<void>;

  /** The migrations applied to this database, in order. */
  migrations(): Promise<{ id: number; name: string; appliedAt: number }[]>;

  close(): Promise<void>;
}

/**
 * A long wait for another process's write lock: `waiting` once it passed the warning
 * threshold, then `acquired` when the lock came, or `gave-up` when the waiting writes all
 * failed at the busy timeout.
 */
export interface WriteLockWait {
  state: "waiting" | "acquired" | "gave-up";
  /** The database file. */
  path: string;
  /** How long this process has been waiting, in ms. */
  waitedMs: number;
  /** Who holds the lock, where the kernel says (Linux `/proc/locks`). */
  holder?: { pid: number; name?: string };
}
