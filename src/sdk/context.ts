import type { Duration } from "../core/duration.ts";
import type { ReceivedEvent } from "../core/events.ts";
import type { RetryPolicy } from "../core/retry.ts";
import type { RunId } from "../core/types.ts";
import type { Workflow } from "./define-workflow.ts";

export interface StepOptions {
  /** Overrides the workflow's retry policy for this step. */
  retry?: RetryPolicy;
  /** Each attempt's time limit; past it the attempt's `signal` aborts and it fails with `StepTimeoutError`. */
  timeout?: Duration;
}

/** What a step function receives. */
export interface StepRunInfo {
  /** Aborts when the attempt times out, the run is cancelled or this worker loses the run. */
  signal: AbortSignal;
  /** 1 for the first attempt. Attempts interrupted by a crash are not counted. */
  attempt: number;
  /** `runId:stepKey`: the same for every attempt; hand it to external APIs to make effects exactly-once. */
  idempotencyKey: string;
  runId: RunId;
  /** The step's key: its name, with `#2`, `#3`… for repeated names. */
  step: string;
}

/** A script run by `ctx.script`: a child process in its own process group, clean environment. */
export interface ScriptOptions {
  lang: "python" | "bash" | "typescript" | "javascript";
  /** The script's text; or `file` (relative to the working directory). */
  source?: string;
  file?: string;
  /** Named parameters of Python `main`, the JS/TS default export's argument, Bash `$CAIRN_ARG_*`. */
  input?: Record<string, unknown>;
  /** Each attempt's limit; past it the process group is killed. */
  timeout?: Duration;
  /** The script's whole environment besides PATH. */
  env?: Record<string, string>;
  retry?: RetryPolicy;
}

export interface WaitForEventOptions {
  /** The event name to wait for. */
  event: string;
  /** Fields that the event's data must equal. */
  match?: Record<string, unknown>;
  /** How long to wait; on timeout the wait returns `null`. (Default: forever) */
  timeout?: Duration;
}

/**
 * What a workflow function receives. Every method is a journaled checkpoint: on resume its
 * recorded outcome is returned instead of running it again. Code between these calls is
 * re-executed on resume and must be deterministic (use `now`, `random`, `uuid` from here).
 */
export interface WorkflowContext {
  readonly runId: RunId;
  readonly workflow: string;
  /**
   * For a run started by a schedule (or a backfill): its schedule and logical interval,
   * like Airflow's data interval — the slot it stands for and the next slot.
   */
  readonly scheduled: { scheduleId: string; start: Date; end: Date | null } | undefined;

  /**
   * Runs `fn` once and records its outcome. On failure it retries per policy; a
   * `NonRetryableError` or the last attempt's error is recorded and thrown.
   * @example const payment = await ctx.step("charge", () => charge(order));
   */
  step<T>(name: string, fn: (info: StepRunInfo) => T | Promise<T>): Promise<Awaited<T>>;
  step<T>(
    name: string,
    options: StepOptions,
    fn: (info: StepRunInfo) => T | Promise<T>,
  ): Promise<Awaited<T>>;

  /**
   * A step whose database writes commit in the same transaction as its checkpoint, so they
   * happen exactly once (G2). `fn` gets the store's transaction handle: on PostgreSQL a
   * postgres.js `TransactionSql`; on SQLite the better-sqlite3 `Database`, and `fn` must
   * then be synchronous. A failed attempt rolls back and is retried per policy.
   * @example await ctx.transaction("record", (sql) => sql`insert into orders ${sql(order)}`);
   */
  // biome-ignore lint/suspicious/noExplicitAny: the handle's type depends on the store
  transaction<T, Tx = any>(
    name: string,
    fn: (tx: Tx) => T | Promise<T>,
    options?: Omit<StepOptions, "timeout">,
  ): Promise<Awaited<T>>;

  /**
   * Runs a Python, Bash, TypeScript or JavaScript script as a step (the runner of flows'
   * script steps): its return value (Python/JS) or last stdout line (Bash) is the output; a
   * non-zero exit fails the attempt with the tail of stderr, retried per policy.
   * @example const rows = await ctx.script("extract", { lang: "python", file: "etl/extract.py", input: { day } });
   */
  script<T = unknown>(name: string, options: ScriptOptions): Promise<T>;

  /** A durable sleep: the run lets go of its worker slot and wakes after `duration`. */
  sleep(name: string, duration: Duration): Promise<void>;
  /** A durable sleep until a point in time. */
  sleepUntil(name: string, until: Date | number): Promise<void>;

  /**
   * Waits for an event sent with `cairn.sendEvent` after this run started, whose data
   * matches `options.match`. Returns `null` on timeout.
   */
  waitForEvent<T = unknown>(
    name: string,
    options: WaitForEventOptions,
  ): Promise<ReceivedEvent<T> | null>;

  /** Waits for `cairn.signal(runId, name, payload)`; signals are buffered in order. `null` on timeout. */
  waitForSignal<T = unknown>(name: string, options?: { timeout?: Duration }): Promise<T | null>;

  /**
   * Starts a child workflow and waits for its result without holding a worker slot.
   * Cancelling this run cancels the child; a failed child throws here.
   */
  invoke<I, O>(
    name: string,
    workflow: Workflow<I, O>,
    input: I,
    options?: { id?: string },
  ): Promise<O>;

  /** The current time, journaled: the same on every replay. */
  now(): Date;
  /** A random number in [0, 1), journaled. */
  random(): number;
  /** A random UUID, journaled. */
  uuid(): string;
}
