import type { RunId, RunStatus } from "../core/types.ts";
import type { JournalEntry, NewRun, RunRecord } from "./run-records.ts";

/**
 * Why a store woke its subscriber, where it knows: `"admission"` when the only news is runs
 * started by a process without their code (a `cairn server`), which a worker must admit
 * before anyone can claim them.
 */
export type WakeReason = "admission";

/** A run awaiting admission, as a wake-up may carry it: what an admission needs of it. */
export type NoticedRun = Pick<RunRecord, "id" | "workflow" | "input">;

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
  /**
   * The run has no journal entries, known from the claim itself: it was never claimed before
   * and was not created with a journal. Its worker then skips reading one (a round trip on
   * PostgreSQL for nearly every run another process started). Absent: read it.
   */
  journalEmpty?: boolean;
}

/** What a suspended run waits for; registered when the run lets go of its lease. */
/** How a run ended, serialized as the store holds it: what its `result()` returns or throws. */
export type RunOutcome =
  | { status: "completed"; output: string }
  | { status: "failed"; error: string };

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

/**
 * What a worker does under its leases: claim due runs, keep the leases, write the journal
 * (fenced by the claim's token), and learn when work comes due. Part of {@link Store}.
 */
export interface JournalStore {
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
  /**
   * Calls `onWake` whenever another process makes work due (PostgreSQL `LISTEN/NOTIFY`),
   * with `"admission"` where the store can tell that only runs awaiting a worker's
   * admission arrived (nothing became claimable), and the run where the wake-up carries it.
   * Resolves to an unsubscribe function. Absent where there is no such channel; the worker
   * then relies on its poll.
   */
  subscribe?(onWake: (reason?: WakeReason, run?: NoticedRun) => void): Promise<() => Promise<void>>;
  /**
   * Calls `onEnded` soon after runs end in any process (completed, failed or cancelled),
   * with their ids: where the store announces every end (PostgreSQL `NOTIFY`), any run's;
   * where it only learns that another connection committed (SQLite), those of `awaited()`
   * it then finds ended. Without ids when the store may have missed ends (a listener that
   * reconnected). `result()` waiting for a run that executes elsewhere wakes on it instead
   * of at its next poll. Hints only: the waiters still poll. Resolves to the function that
   * stops watching. `outcomes` holds how some of them ended, where the store knows it
   * without a read: a completion's output or a failure's error (not a cancel, nor a run
   * that continued as new, whose result is its successor's).
   */
  watchEnds?(
    onEnded: (runIds?: readonly RunId[], outcomes?: ReadonlyMap<RunId, RunOutcome>) => void,
    awaited: () => readonly RunId[],
  ): Promise<() => Promise<void>>;
  /**
   * Reads run `id` and makes sure `watchEnds` will be told when it ends, in one statement, for
   * a store that announces only some runs' ends (PostgreSQL: not those created claimed, which
   * end where they started). Committed before it resolves: an end committed later is
   * announced. `announced` false for a run not ended as read: its end was not announced,
   * because it ended while the statement waited (read it again).
   */
  getRunAnnouncingEnd?(id: RunId): Promise<{ run: RunRecord | undefined; announced: boolean }>;
  /**
   * The request of `getRunAnnouncingEnd` alone, without the read: for a caller that reads the
   * run its own way afterwards (the event stream), or a store that offers only the request.
   */
  announceEnd?(id: RunId): Promise<void>;
}
