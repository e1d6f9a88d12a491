import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { Duration } from "./duration.ts";
import type { ReceivedEvent } from "./events.ts";
import type { Logger } from "./logger.ts";
import type { RetryPolicy } from "./retry.ts";
import type { RunId } from "./types.ts";

/** When a schedule's slot comes while its previous run is still active. */
export type OverlapPolicy = "skip" | "queue" | "allow";
/** Which slots missed while no scheduler ran still fire. */
export type CatchupPolicy = "none" | "latest" | "all";

export interface WorkflowOptions<TInput> {
  /** Unique name; runs refer to their workflow by it. */
  name: string;
  /**
   * The version of this code, a positive integer. Several versions of one name may be
   * registered side by side: new runs start on the highest, and each run stays on the
   * version it started with (only workers that have it claim it). (Default: 1)
   */
  version?: number;
  /** Validates the input at `start` (zod or any Standard Schema). Invalid input creates no run. */
  input?: StandardSchemaV1<unknown, TInput>;
  /** Default retry policy of this workflow's steps. */
  retry?: RetryPolicy;
  /** Time limit of a whole run, from its start; past it the run fails with `RunTimeoutError`. */
  timeout?: Duration;
  /**
   * What starts runs besides `cairn.start`: an event (`if`: a jsonata condition over
   * `{ event }`, e.g. `"event.data.total > 100"`) or a cron schedule.
   */
  triggers?: Trigger[];
  /** At most `limit` runs executing at once, per `key(input)` when given. Waiting runs hold no slot. */
  concurrency?: { limit: number; key?: (input: TInput) => string | number };
  /** At most `limit` runs started per `period`, per `key(input)` when given. */
  rateLimit?: { limit: number; period: Duration; key?: (input: TInput) => string | number };
  /** Start after `period` without a newer start of the same `key(input)`; the last input wins. */
  debounce?: { period: Duration; key?: (input: TInput) => string | number };
  /** Higher runs first among due runs. */
  priority?: number | ((input: TInput) => number);
  /** Only workers subscribed to this queue run it. (Default: "default") */
  queue?: string;
  /**
   * Workers that may die in a row running one run of this workflow (the process exits or
   * is killed mid-step) without its journal moving on; then the run fails with
   * `PoisonRunError` instead of being run again. (Default: the engine's `maxCrashes`)
   */
  maxCrashes?: number;
  /**
   * A start whose `key(input)` matches a run of this workflow started less than `ttl` ago
   * returns that run (`created: false`) instead of creating one; after the window a start
   * creates a new run. Applies to every start: `cairn.start`, the HTTP API, event triggers
   * and flows (not to child runs, reruns or scheduled runs, which have ids of their own).
   * @example idempotency: { key: (order) => order.id, ttl: "24h" }
   */
  idempotency?: IdempotencyOptions<TInput>;
}

export interface IdempotencyOptions<TInput> {
  /** The run's idempotency key, per workflow; an empty key means none. */
  key: (input: TInput) => string | number;
  /** How long after a run was created a start with its key returns it. */
  ttl: Duration;
}

export type Trigger =
  | { event: string; if?: string }
  | {
      cron: string;
      /** IANA time zone. (Default: "UTC") */
      tz?: string;
      /** When a slot comes while the previous run still runs. (Default: "skip") */
      overlap?: OverlapPolicy;
      /** Slots missed while no scheduler ran. (Default: "latest") */
      catchup?: CatchupPolicy;
      /** The input of every scheduled run. */
      input?: unknown;
    };

export type WorkflowFunction<TInput, TOutput> = (
  ctx: WorkflowContext,
  input: TInput,
) => Promise<TOutput> | TOutput;

/** A workflow definition: register it with `Cairn.open({ workflows })`, start it with `cairn.start`. */
export interface Workflow<TInput = unknown, TOutput = unknown> {
  readonly name: string;
  readonly options: WorkflowOptions<TInput>;
  readonly fn: WorkflowFunction<TInput, TOutput>;
  /** Run time limit in ms, if any. */
  readonly timeoutMs: number | undefined;
  readonly kind: "cairn.workflow";
}

/**
 * Any workflow, whatever its input and output. `Workflow` is invariant in its input (the
 * schema produces it, the function consumes it), so only `any` admits them all.
 */
// biome-ignore lint/suspicious/noExplicitAny: a list of workflows of different input types
export type AnyWorkflow = Workflow<any, any>;

export function isWorkflow(value: unknown): value is Workflow {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { kind?: unknown }).kind === "cairn.workflow"
  );
}

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
  /** Lines recorded with this attempt (the step's `console.*` output is recorded too). */
  log: Logger;
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
  /** Python packages the script needs; installed only where `CAIRN_INSTALL_REQUIREMENTS=1`. */
  requirements?: string[];
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

/** What `ctx.waitForAny` waits for: any of these events and signals, or its timeout. */
export interface WaitForAnyOptions {
  /** Events that end the wait, each with an optional match on its data. */
  events?: readonly { event: string; match?: Record<string, unknown> }[];
  /** Names of signals (`cairn.signal(runId, name, data)`) that end the wait. */
  signals?: readonly string[];
  /** How long to wait; on timeout the wait returns `null`. (Default: forever) */
  timeout?: Duration;
}

/** Which alternative ended a `ctx.waitForAny`, with its data (the event's or the signal's). */
export interface AnyOutcome<T = unknown> {
  kind: "event" | "signal";
  /** The event's or the signal's name. */
  name: string;
  data: T;
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
   * Lines recorded with the run (`cairn runs logs`, the web UI). Not repeated when the
   * workflow replays: a line logged before a recorded position was already stored.
   * @example ctx.log.info("charging", { orderId });
   */
  readonly log: Logger;

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
   * Waits for the first of several events and signals, or the timeout (`null`). The losers
   * are withdrawn: an event that arrives later is not taken by this wait (a later
   * `waitForEvent` of this run still sees it), and a signal not chosen stays buffered for a
   * later `waitForSignal` of its name. The outcome is journaled: a replay returns it again.
   * @example
   * const first = await ctx.waitForAny("reply", {
   *   events: [{ event: "order.paid", match: { orderId } }],
   *   signals: ["cancel"],
   *   timeout: "1d",
   * });
   * if (first?.kind === "signal") return "cancelled";
   */
  waitForAny<T = unknown>(name: string, options: WaitForAnyOptions): Promise<AnyOutcome<T> | null>;

  /**
   * Ends this run and starts a new run of the same workflow with `input` and the same
   * options: a loop that runs forever keeps each journal short. The new run links back to
   * this one (`continuedFrom`), this one to it (`continuedTo`); this run completes with no
   * output and `result()` of any run of the chain follows it to the last run's result.
   * Steps still in flight on other branches are stopped. The returned promise never settles.
   * @example return ctx.continueAsNew({ cursor: next });
   */
  continueAsNew(input: unknown): Promise<never>;

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

  /**
   * Adds tags to this run (or changes their values), searchable like the tags given at
   * start (`GET /api/v1/runs?tag=key:value`). Journaled as a step named `setTags`: set once,
   * not again on replay. Bad tags throw here, before anything is recorded.
   * @example await ctx.setTags({ customer: order.customerId });
   */
  setTags(tags: Record<string, string>): Promise<void>;

  /** The current time, journaled: the same on every replay. */
  now(): Date;
  /** A random number in [0, 1), journaled. */
  random(): number;
  /** A random UUID, journaled. */
  uuid(): string;

  /**
   * Lets a changed workflow keep its runs in flight: `true` for a run that reaches this
   * point under the code that has the patch (a marker is journaled, so it stays `true` on
   * every replay), `false` for a run whose journal already went past this point without
   * the marker (it started under the old code, which it keeps replaying). Asked again in
   * the same run, the same `id` gives the same answer. Takes no journal position when it
   * returns `false`.
   * @example
   * if (ctx.patched("send-sms")) await ctx.step("sms", () => sendSms(order));
   */
  patched(id: string): boolean;

  /**
   * Once no run that started before the patch `id` remains, replaces `ctx.patched(id)`
   * and its old branch: runs that journaled the marker still replay, new runs journal
   * nothing. Remove the call once those runs have finished too.
   * @example ctx.deprecatePatch("send-sms"); await ctx.step("sms", () => sendSms(order));
   */
  deprecatePatch(id: string): void;
}
