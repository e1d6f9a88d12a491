import { setMaxListeners } from "node:events";
import { resolve as resolvePath } from "node:path";
import { type Span, SpanStatusCode, trace } from "@opentelemetry/api";
import type { Clock } from "../core/clock.ts";
import { delay } from "../core/clock.ts";
import { type Duration, toMs } from "../core/duration.ts";
import type { EngineEvent } from "../core/engine-event.ts";
import {
  CairnError,
  ensureError,
  LeaseLostError,
  NonDeterminismError,
  NonRetryableError,
  RetryableError,
  RunTimeoutError,
  StepTimeoutError,
} from "../core/errors.ts";
import type { ReceivedEvent } from "../core/events.ts";
import { backoffDelay, resolveRetryPolicy } from "../core/retry.ts";
import { deserialize, deserializeError, serialize, serializeError } from "../core/serializer.ts";
import type { EntryKind, RunId, RunStatus } from "../core/types.ts";
import type {
  ScriptOptions,
  StepOptions,
  StepRunInfo,
  WaitForEventOptions,
  WorkflowContext,
} from "../sdk/context.ts";
import type { Workflow } from "../sdk/define-workflow.ts";
import type {
  ClaimedRun,
  JournalEntry,
  JournalOp,
  JournalOpResult,
  Store,
  WaitRegistration,
} from "../store/store.ts";
import { DeliveryOrder } from "./delivery-order.ts";
import type { JournalWriter } from "./journal-writer.ts";
import { runScript } from "./script/run-script.ts";

/** What an execution needs from the engine around it. */
export interface ExecutionEnv {
  clock: Clock;
  /** Reports progress (steps starting and ending) to the engine's listeners. */
  emit(event: EngineEvent): void;
  store: Store;
  writer: Pick<JournalWriter, "write">;
  payloadLimitBytes: number;
  /**
   * Replay only: recorded outcomes are returned, and the first position without a final
   * recorded outcome ends the execution instead of running anything (`cairn replay`).
   */
  replayOnly?: boolean;
  /** Creates (idempotently) the child run of an `invoke`. */
  startChild(request: {
    parent: ClaimedRun;
    position: number;
    childId: RunId;
    workflow: Workflow<unknown, unknown>;
    input: unknown;
  }): Promise<void>;
}

/** How an execution ended, as far as this worker is concerned. */
export type ExecutionOutcome =
  | { type: "completed" }
  | { type: "failed"; error: Error }
  | { type: "suspended"; status: RunStatus }
  | { type: "released" }
  /** Replay-only execution reached a position the journal has no final outcome for. */
  | { type: "replayed"; next: { position: number; kind: EntryKind; key: string } }
  | { type: "aborted"; reason: Error };

const never = <T>() => new Promise<T>(() => {});

const tracer = trace.getTracer("cairn");

function endWithError(span: Span, thrown: unknown): void {
  const error = ensureError(thrown);
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  span.end();
}

/** Retry backoffs longer than this suspend the run durably instead of waiting in memory. */
const durableBackoffMs = 5_000;

/**
 * One run, executing on this worker, from claim to completion or suspension.
 *
 * The workflow function stays alive across its steps (no replay on the happy path): each
 * completed step is one journal write, handed to the group-commit writer without waiting;
 * the next step (or the run's completion) waits for it, so every step is durable before
 * the next side effect begins, and the last step shares its commit with the completion.
 *
 * On resume the function runs from the top and each journal position returns its recorded
 * outcome (G1). A position whose kind or key differs from the journal fails the run with a
 * NonDeterminismError (G6).
 *
 * When every branch of the function is blocked on a wait (sleep, event, signal, child) and
 * no step is in flight, the run suspends: it records what it waits for, lets go of its
 * lease and its promise is dropped. Whoever resumes it replays.
 */
export class RunExecution implements WorkflowContext {
  readonly runId: RunId;
  readonly workflow: string;
  readonly done: Promise<ExecutionOutcome>;

  readonly #env: ExecutionEnv;
  readonly #claimed: ClaimedRun;
  readonly #definition: Workflow<unknown, unknown>;
  readonly #journal: Map<number, JournalEntry>;
  readonly #abort = new AbortController();
  readonly #aborted: Promise<never>;
  readonly #order: DeliveryOrder;
  #position = 0;
  readonly #keyCounts = new Map<string, number>();
  #pendingWrites: Promise<void>[] = [];
  #inFlight = 0;
  #waits: WaitRegistration[] = [];
  #settled = false;
  #stopping = false;
  #draining = false;
  #checkScheduled = false;
  #cancelDeadline: (() => void) | undefined;
  #settle!: (outcome: ExecutionOutcome) => void;

  constructor(
    env: ExecutionEnv,
    claimed: ClaimedRun,
    definition: Workflow<unknown, unknown>,
    journal: readonly JournalEntry[],
  ) {
    this.#env = env;
    this.#claimed = claimed;
    this.#definition = definition;
    this.runId = claimed.run.id;
    this.workflow = claimed.run.workflow;
    this.#journal = new Map(journal.map((e) => [e.position, e]));
    this.#order = new DeliveryOrder(
      journal,
      (entry) =>
        void this.#stopAndFail(
          new NonDeterminismError(
            entry.position,
            `${entry.kind} "${entry.key}"`,
            "no call to it (the code took another path, or awaited something other than ctx calls)",
          ),
        ),
      () => this.#scheduleCheck(),
    );
    this.done = new Promise((resolve) => {
      this.#settle = (outcome) => {
        if (this.#settled) return;
        this.#settled = true;
        this.#cancelDeadline?.();
        resolve(outcome);
      };
    });
    // Each attempt of each parallel step listens to the run's abort: no fixed cap fits.
    setMaxListeners(0, this.#abort.signal);
    this.#aborted = new Promise<never>((_, reject) => {
      this.#abort.signal.addEventListener("abort", () => reject(this.#abort.signal.reason));
    });
    this.#aborted.catch(() => {});
  }

  get scheduled(): WorkflowContext["scheduled"] {
    const { scheduleId, slotAt, slotEndAt } = this.#claimed.run;
    if (scheduleId === null || slotAt === null) return undefined;
    return {
      scheduleId,
      start: new Date(slotAt),
      end: slotEndAt === null ? null : new Date(slotEndAt),
    };
  }

  get token(): number {
    return this.#claimed.token;
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Runs the workflow function; resolves with how this execution ended. */
  run(): Promise<ExecutionOutcome> {
    const { deadlineAt } = this.#claimed.run;
    if (deadlineAt !== null) {
      this.#cancelDeadline = this.#env.clock.setTimer(deadlineAt, () => {
        void this.#stopAndFail(new RunTimeoutError(this.#definition.timeoutMs ?? 0));
      });
    }
    let input: unknown;
    try {
      input = deserialize(this.#claimed.run.input);
    } catch (error) {
      void this.#finishFailed(ensureError(error));
      return this.done;
    }
    Promise.resolve()
      .then(() => this.#definition.fn(this, input))
      .then(
        (value) => this.#onReturn(value),
        (error) => this.#onThrow(error),
      );
    return this.done;
  }

  /** Stops at once (lease lost, run cancelled): running steps see their signal abort. */
  abort(reason: Error): void {
    if (this.#settled) return;
    this.#abort.abort(reason);
    this.#settle({ type: "aborted", reason });
  }

  /** Shutdown: start no new step; once in-flight steps finish, hand the run back. */
  drain(): void {
    this.#draining = true;
    this.#scheduleCheck();
  }

  /** Shutdown deadline passed: hand the run back now; interrupted steps run again elsewhere. */
  async release(): Promise<void> {
    if (this.#settled || this.#stopping) return this.done.then(() => {});
    this.#stopping = true;
    this.#abort.abort(new CairnError("CLOSED", "The worker is shutting down."));
    await this.#writeFinal(
      { type: "release", runId: this.runId, token: this.token, at: this.#now() },
      {
        type: "released",
      },
    );
  }

  // ---- the workflow context ----

  step<T>(name: string, fn: (info: StepRunInfo) => T | Promise<T>): Promise<Awaited<T>>;
  step<T>(
    name: string,
    options: StepOptions,
    fn: (info: StepRunInfo) => T | Promise<T>,
  ): Promise<Awaited<T>>;
  async step<T>(
    name: string,
    optionsOrFn: StepOptions | ((info: StepRunInfo) => T | Promise<T>),
    maybeFn?: (info: StepRunInfo) => T | Promise<T>,
  ): Promise<Awaited<T>> {
    const options = typeof optionsOrFn === "function" ? {} : (optionsOrFn ?? {});
    const fn = typeof optionsOrFn === "function" ? optionsOrFn : maybeFn;
    if (typeof fn !== "function") {
      throw new TypeError(`ctx.step("${name}") needs a function as its last argument.`);
    }
    const timeoutMs =
      options.timeout === undefined ? undefined : toMs(options.timeout, "step timeout");
    return this.#runStep<Awaited<T>>("step", name, options, async (key, attempt) => {
      const value = await this.#runAttempt(fn, key, attempt, timeoutMs);
      return serialize(value, `The output of step "${key}"`, this.#env.payloadLimitBytes);
    });
  }

  // biome-ignore lint/suspicious/noExplicitAny: the handle's type depends on the store
  async transaction<T, Tx = any>(
    name: string,
    fn: (tx: Tx) => T | Promise<T>,
    options: Omit<StepOptions, "timeout"> = {},
  ): Promise<Awaited<T>> {
    if (typeof fn !== "function") {
      throw new TypeError(`ctx.transaction("${name}") needs a function as its last argument.`);
    }
    return this.#runStep<Awaited<T>>("transaction", name, options, async (key, _attempt, entry) => {
      const result = await this.#env.store.transactionalStep(
        { runId: this.runId, token: this.token, entry: entry() },
        (tx) => fn(tx as Tx),
        (value) =>
          serialize(value, `The output of transaction "${key}"`, this.#env.payloadLimitBytes),
      );
      if (!result.ok) throw this.#fenced();
      return result.output;
    });
  }

  /**
   * The attempt loop shared by steps and transactions: replays a recorded outcome, else
   * runs attempts until one succeeds or the policy gives up, recording each failure before
   * it backs off or throws. `attemptOnce` returns the serialized output. Outcomes reach the
   * workflow in delivery order (see DeliveryOrder), each journaled with its sequence number.
   */
  async #runStep<T>(
    kind: "step" | "transaction",
    name: string,
    options: StepOptions,
    attemptOnce: (key: string, attempt: number, entry: () => JournalEntry) => Promise<string>,
  ): Promise<T> {
    const { key, position, recorded } = this.#claimPosition(kind, name);
    if (recorded?.status === "completed" || recorded?.status === "failed") {
      return this.#replayed<T>(recorded);
    }

    const policy = resolveRetryPolicy(this.#definition.options.retry, options.retry);
    let attempt = recorded?.status === "retrying" ? recorded.attempt + 1 : 1;
    let retryAt = recorded?.status === "retrying" ? recorded.wakeAt : null;

    this.#inFlight++;
    let counted = true;
    try {
      await this.#flushPending();
      if (this.#draining) {
        counted = false;
        this.#inFlight--;
        this.#scheduleCheck();
        return never<T>();
      }
      for (;;) {
        if (retryAt !== null && retryAt > this.#now()) {
          if (retryAt - this.#now() > durableBackoffMs) {
            // A long backoff waits like a sleep: no slot, no memory, survives restarts.
            counted = false;
            this.#inFlight--;
            return this.#waitFor<T>({ kind: "retry", position, key, wakeAt: retryAt });
          }
          await delay(this.#env.clock, retryAt - this.#now(), this.#abort.signal);
        }
        this.#throwIfStopped();
        const startedAt = this.#now();
        const entry = (): JournalEntry => ({
          position,
          key,
          kind,
          status: "completed",
          output: null,
          error: null,
          attempt,
          startedAt,
          finishedAt: this.#now(),
          wakeAt: null,
          detail: null,
          seq: null,
        });
        this.#emitStep(key, kind, "started", attempt, startedAt);
        const span = tracer.startSpan(`cairn.${kind} ${key}`, {
          attributes: { "cairn.run_id": this.runId, "cairn.step": key, "cairn.attempt": attempt },
        });
        try {
          const output = await attemptOnce(key, attempt, entry);
          span.end();
          const { seq, turn } = this.#order.liveTurn();
          // Not awaited here: the next step, or the run's end, waits for it (group commit).
          this.#record({ ...entry(), output, seq });
          await turn;
          this.#emitStep(key, kind, "completed", attempt, startedAt);
          return deserialize<T>(output);
        } catch (thrown) {
          endWithError(span, thrown);
          this.#throwIfStopped();
          const error = ensureError(thrown);
          const final = attempt >= policy.maxAttempts || !isRetryable(error);
          const backoff =
            error instanceof RetryableError && error.retryAfterMs !== undefined
              ? error.retryAfterMs
              : backoffDelay(policy, attempt + 1);
          retryAt = final ? null : this.#now() + backoff;
          const failed = { ...entry(), error: serializeError(error), wakeAt: retryAt };
          // A final failure is an outcome the workflow sees: it takes its turn like a result.
          const delivery = final ? this.#order.liveTurn() : undefined;
          await this.#recordNow({
            ...failed,
            status: final ? "failed" : "retrying",
            seq: delivery?.seq ?? null,
          });
          await delivery?.turn;
          this.#emitStep(key, kind, final ? "failed" : "retrying", attempt, startedAt, error);
          if (final) throw error;
          attempt++;
        }
      }
    } finally {
      if (counted) this.#inFlight--;
      this.#scheduleCheck();
    }
  }

  script<T = unknown>(name: string, options: ScriptOptions): Promise<T> {
    const timeoutMs =
      options.timeout === undefined
        ? undefined
        : toMs(options.timeout, `timeout of script "${name}"`);
    const file = options.file === undefined ? undefined : resolvePath(options.file);
    // The runner owns the timeout: it settles only once the script's process group is dead.
    return this.step(name, options.retry ? { retry: options.retry } : {}, async (info) => {
      const result = await runScript({
        ...options,
        file,
        timeoutMs,
        signal: info.signal,
        name: info.step,
      });
      return result.output as T;
    }) as Promise<T>;
  }

  sleep(name: string, duration: Duration): Promise<void> {
    const ms = toMs(duration, `duration of sleep "${name}"`);
    return this.#sleep(name, () => this.#now() + ms);
  }

  sleepUntil(name: string, until: Date | number): Promise<void> {
    const at = until instanceof Date ? until.getTime() : until;
    if (!Number.isFinite(at))
      throw new TypeError(`sleepUntil("${name}") needs a valid Date or epoch ms.`);
    return this.#sleep(name, () => at);
  }

  async #sleep(name: string, wakeAt: () => number): Promise<void> {
    const { key, position, recorded } = this.#claimPosition("sleep", name);
    if (recorded?.status === "completed") return this.#replayed(recorded);
    const at = recorded?.wakeAt ?? wakeAt();
    if (!recorded && at <= this.#now()) return;
    return this.#waitFor({ kind: "sleep", position, key, wakeAt: at });
  }

  async waitForEvent<T = unknown>(
    name: string,
    options: WaitForEventOptions,
  ): Promise<ReceivedEvent<T> | null> {
    if (!options || typeof options.event !== "string" || options.event === "") {
      throw new TypeError(`waitForEvent("${name}") needs an \`event\` name.`);
    }
    const { key, position, recorded } = this.#claimPosition("event", name);
    if (recorded?.status === "completed") return this.#replayed(recorded);
    const timeoutAt = recorded ? recorded.wakeAt : this.#timeoutAt(options.timeout, name);
    return this.#waitFor({
      kind: "event",
      position,
      key,
      event: options.event,
      match: options.match ?? null,
      timeoutAt,
    });
  }

  async waitForSignal<T = unknown>(
    name: string,
    options: { timeout?: Duration } = {},
  ): Promise<T | null> {
    const { key, position, recorded } = this.#claimPosition("signal", name);
    if (recorded?.status === "completed") return (await this.#replayed<T | null>(recorded)) ?? null;
    const timeoutAt = recorded ? recorded.wakeAt : this.#timeoutAt(options.timeout, name);
    return this.#waitFor({ kind: "signal", position, key, signal: name, timeoutAt });
  }

  async invoke<I, O>(
    name: string,
    workflow: Workflow<I, O>,
    input: I,
    options: { id?: string } = {},
  ): Promise<O> {
    const { key, position, recorded } = this.#claimPosition("invoke", name);
    if (recorded?.status === "completed" || recorded?.status === "failed") {
      return this.#replayed<O>(recorded);
    }
    const childId = (
      recorded?.detail
        ? (JSON.parse(recorded.detail) as { childId: string }).childId
        : (options.id ?? `${this.runId}/${key}`)
    ) as RunId;
    if (!recorded) {
      // Counted as in flight so the run cannot suspend before its child exists.
      this.#inFlight++;
      try {
        await this.#flushPending();
        this.#throwIfStopped();
        await this.#env.startChild({
          parent: this.#claimed,
          position,
          childId,
          workflow: workflow as Workflow<unknown, unknown>,
          input,
        });
      } finally {
        this.#inFlight--;
      }
    }
    return this.#waitFor({ kind: "invoke", position, key, childId });
  }

  now(): Date {
    return new Date(this.#journaled("now", () => this.#now()));
  }

  random(): number {
    return this.#journaled("random", Math.random);
  }

  uuid(): string {
    return this.#journaled("uuid", () => crypto.randomUUID());
  }

  #emitStep(
    key: string,
    kind: "step" | "transaction",
    status: "started" | "completed" | "failed" | "retrying",
    attempt: number,
    startedAt: number,
    error?: Error,
  ): void {
    const at = this.#now();
    this.#env.emit({
      type: "step",
      runId: this.runId,
      workflow: this.workflow,
      key,
      kind,
      status,
      attempt,
      at,
      ...(status === "started" ? {} : { durationMs: at - startedAt }),
      ...(error ? { error: { name: error.name, message: error.message } } : {}),
    });
  }

  // ---- journal positions ----

  #claimPosition(kind: EntryKind, name: string) {
    if (this.#settled || this.#stopping) {
      // The run already ended here (cancelled, lease lost, failed): leftover branches stop.
      throw this.#abort.signal.reason ?? new CairnError("CLOSED", "This execution has ended.");
    }
    if (typeof name !== "string" || name === "") {
      throw new TypeError(`Every ${kind} needs a non-empty name.`);
    }
    const count = (this.#keyCounts.get(name) ?? 0) + 1;
    this.#keyCounts.set(name, count);
    const key = count === 1 ? name : `${name}#${count}`;
    const position = this.#position++;
    const recorded = this.#journal.get(position);
    if (recorded && (recorded.kind !== kind || recorded.key !== key)) {
      const error = new NonDeterminismError(
        position,
        `${recorded.kind} "${recorded.key}"`,
        `${kind} "${key}"`,
      );
      void this.#stopAndFail(error);
      throw error;
    }
    if (this.#env.replayOnly && recorded?.status !== "completed" && recorded?.status !== "failed") {
      this.#stopping = true;
      const frontier = new CairnError("CLOSED", "Replay reached the end of the recorded history.");
      this.#abort.abort(frontier);
      this.#settle({ type: "replayed", next: { position, kind, key } });
      throw frontier;
    }
    return { key, position, recorded };
  }

  /** A recorded outcome, returned (or thrown) on its turn in the journaled delivery order. */
  async #replayed<T>(recorded: JournalEntry): Promise<T> {
    if (this.#order.replays(recorded.position)) await this.#order.replayTurn(recorded.position);
    if (recorded.status === "failed") throw deserializeError(recorded.error ?? "{}");
    return deserialize<T>(recorded.output);
  }

  #journaled<T>(kind: "now" | "random" | "uuid", produce: () => T): T {
    const { key, position, recorded } = this.#claimPosition(kind, kind);
    if (recorded) return deserialize(recorded.output);
    const value = produce();
    const at = this.#now();
    this.#record({
      position,
      key,
      kind,
      status: "completed",
      output: serialize(value, kind, Number.POSITIVE_INFINITY),
      error: null,
      attempt: 1,
      startedAt: at,
      finishedAt: at,
      wakeAt: null,
      detail: null,
      seq: null,
    });
    return value;
  }

  /** Queues an entry; the next step or the run's end waits for it to be durable. */
  #record(entry: JournalEntry): void {
    const write = this.#recordNow(entry);
    write.catch(() => {});
    this.#pendingWrites.push(write);
  }

  async #recordNow(entry: JournalEntry): Promise<void> {
    let result: JournalOpResult;
    try {
      result = await this.#env.writer.write({
        type: "entry",
        runId: this.runId,
        token: this.token,
        entry,
      });
    } catch (error) {
      // The store failed (a lost connection, a restart): that is no outcome of the workflow.
      // Stop here; the run keeps its journal and is resumed once its lease lapses.
      const reason = ensureError(error);
      this.abort(reason);
      throw reason;
    }
    if (!result.ok) throw this.#fenced();
  }

  async #flushPending(): Promise<void> {
    if (this.#pendingWrites.length === 0) return;
    const writes = this.#pendingWrites;
    this.#pendingWrites = [];
    await Promise.all(writes);
  }

  /** The store rejected a write: the run is no longer ours (lease lost or run cancelled). */
  #fenced(): Error {
    const reason = new LeaseLostError(this.runId);
    this.abort(reason);
    return reason;
  }

  // ---- waiting and suspension ----

  #waitFor<T>(wait: WaitRegistration): Promise<T> {
    this.#waits.push(wait);
    this.#scheduleCheck();
    return never();
  }

  #timeoutAt(timeout: Duration | undefined, name: string): number | null {
    return timeout === undefined ? null : this.#now() + toMs(timeout, `timeout of "${name}"`);
  }

  #scheduleCheck(): void {
    if (this.#checkScheduled || this.#settled) return;
    this.#checkScheduled = true;
    // After this turn's microtasks: a step that just finished may lead straight into the next.
    setImmediate(() => {
      this.#checkScheduled = false;
      if (this.#settled || this.#stopping || this.#inFlight > 0 || this.#order.busy) return;
      if (this.#draining) {
        this.#stopping = true;
        void this.#writeFinal(
          { type: "release", runId: this.runId, token: this.token, at: this.#now() },
          { type: "released" },
        );
      } else if (this.#waits.length > 0) {
        void this.#suspend();
      }
    });
  }

  async #suspend(): Promise<void> {
    this.#stopping = true;
    const dueTimes = this.#waits.map((w) =>
      w.kind === "sleep" || w.kind === "retry"
        ? w.wakeAt
        : w.kind === "invoke"
          ? null
          : w.timeoutAt,
    );
    const { deadlineAt } = this.#claimed.run;
    if (deadlineAt !== null) dueTimes.push(deadlineAt);
    const due = dueTimes.filter((t): t is number => t !== null);
    const availableAt = due.length > 0 ? Math.min(...due) : null;
    const result = await this.#writeOp({
      type: "suspend",
      runId: this.runId,
      token: this.token,
      waits: this.#waits,
      availableAt,
      at: this.#now(),
    });
    if (result?.ok) this.#settle({ type: "suspended", status: result.status ?? "waiting" });
  }

  // ---- ending ----

  async #onReturn(value: unknown): Promise<void> {
    if (this.#settled || this.#stopping) return;
    for (const [position, entry] of this.#journal) {
      if (position >= this.#position) {
        return this.#stopAndFail(
          new NonDeterminismError(
            position,
            `${entry.kind} "${entry.key}"`,
            "the end of the workflow",
          ),
        );
      }
    }
    let output: string;
    try {
      output = serialize(value, `The output of run "${this.runId}"`, this.#env.payloadLimitBytes);
    } catch (error) {
      return this.#finishFailed(ensureError(error));
    }
    this.#stopping = true;
    await this.#writeFinal(
      { type: "complete", runId: this.runId, token: this.token, output, at: this.#now() },
      { type: "completed" },
    );
  }

  async #onThrow(thrown: unknown): Promise<void> {
    if (this.#settled || this.#stopping) return;
    await this.#finishFailed(ensureError(thrown));
  }

  /** A failure no user code may catch (non-determinism, run timeout): stop steps, then fail. */
  async #stopAndFail(error: Error): Promise<void> {
    if (this.#settled || this.#stopping) return;
    this.#abort.abort(error);
    await this.#finishFailed(error);
  }

  async #finishFailed(error: Error): Promise<void> {
    if (this.#settled) return;
    this.#stopping = true;
    await this.#writeFinal(
      {
        type: "fail",
        runId: this.runId,
        token: this.token,
        error: serializeError(error),
        at: this.#now(),
      },
      { type: "failed", error },
    );
  }

  async #writeFinal(op: JournalOp, outcome: ExecutionOutcome): Promise<void> {
    const result = await this.#writeOp(op);
    if (result?.ok) this.#settle(outcome);
  }

  /** Writes an op that ends this execution; a rejection or fencing aborts it. */
  async #writeOp(op: JournalOp): Promise<JournalOpResult | undefined> {
    try {
      const result = await this.#env.writer.write(op);
      if (!result.ok) this.#fenced();
      return result;
    } catch (error) {
      this.abort(ensureError(error));
      return undefined;
    }
  }

  #throwIfStopped(): void {
    if (this.#abort.signal.aborted) throw this.#abort.signal.reason;
  }

  #now(): number {
    return this.#env.clock.now();
  }

  async #runAttempt<T>(
    fn: (info: StepRunInfo) => T | Promise<T>,
    key: string,
    attempt: number,
    timeoutMs: number | undefined,
  ): Promise<T> {
    const controller = new AbortController();
    const onRunAbort = () => controller.abort(this.#abort.signal.reason);
    this.#abort.signal.addEventListener("abort", onRunAbort, { once: true });
    const racers: Promise<T>[] = [
      Promise.resolve().then(() =>
        fn({
          signal: controller.signal,
          attempt,
          idempotencyKey: `${this.runId}:${key}`,
          runId: this.runId,
          step: key,
        }),
      ),
      this.#aborted,
    ];
    let cancelTimer: (() => void) | undefined;
    if (timeoutMs !== undefined) {
      racers.push(
        new Promise<never>((_, reject) => {
          cancelTimer = this.#env.clock.setTimer(this.#now() + timeoutMs, () => {
            const timeout = new StepTimeoutError(key, timeoutMs);
            controller.abort(timeout);
            reject(timeout);
          });
        }),
      );
    }
    try {
      return await Promise.race(racers);
    } finally {
      cancelTimer?.();
      this.#abort.signal.removeEventListener("abort", onRunAbort);
    }
  }
}

function isRetryable(error: Error): boolean {
  if (error instanceof NonRetryableError) return false;
  return !(
    CairnError.is(error) &&
    ["NON_RETRYABLE", "NON_DETERMINISM", "PAYLOAD_TOO_LARGE", "SERIALIZATION"].includes(error.code)
  );
}
