import { setMaxListeners } from "node:events";
import type { Duration } from "../core/duration.ts";
import { CairnError, ensureError, LeaseLostError, RunTimeoutError } from "../core/errors.ts";
import type { ReceivedEvent } from "../core/events.ts";
import type { Logger } from "../core/logger.ts";
import { checkName } from "../core/names.ts";
import { deserialize, serialize, serializeError } from "../core/serializer.ts";
import type { EntryKind, RunId } from "../core/types.ts";
import type {
  ScriptOptions,
  StepOptions,
  StepRunInfo,
  WaitForAnyOptions,
  WaitForEventOptions,
  Workflow,
  WorkflowContext,
} from "../core/workflow.ts";
import type { ClaimedRun, JournalEntry, JournalOp, JournalOpResult } from "../store/store.ts";
import { abortListeners } from "./attempt-signal.ts";
import { CallGuard } from "./call-guard.ts";
import type { ExecutionEnv, ExecutionOutcome } from "./execution-env.ts";
import { type Claim, RunJournal } from "./run-journal.ts";
import { RunPatches } from "./run-patches.ts";
import { runStep, type StepHost, stepArguments } from "./run-step.ts";
import { runStepAttempt, type StepAttemptRun } from "./run-step-attempt.ts";
import { never, RunWaits } from "./run-waits.ts";
import { scheduledSlot } from "./scheduled-slot.ts";
import { scriptStep } from "./script-step.ts";
import { setTagsStep } from "./set-tags-step.ts";
import { runLogger, type StepLogger } from "./step-logger.ts";
import { transactionStep } from "./transaction-step.ts";

type Continue = Extract<JournalOp, { type: "continue" }>;

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
 *
 * This class owns the run's lifecycle (claimed, stopping, settled) and decides when it
 * suspends or ends. The journal bookkeeping (RunJournal), the step attempt loop (runStep),
 * a single attempt (runStepAttempt), the waits (RunWaits) and scripts (scriptStep) live in
 * their own modules and reach this state only through the hosts handed to them.
 */
export class RunExecution implements WorkflowContext {
  readonly runId: RunId;
  readonly workflow: string;
  readonly done: Promise<ExecutionOutcome>;
  readonly log: Logger;
  readonly patched: WorkflowContext["patched"];
  readonly deprecatePatch: WorkflowContext["deprecatePatch"];

  readonly #env: ExecutionEnv;
  readonly #claimed: ClaimedRun;
  readonly #definition: Workflow<unknown, unknown>;
  readonly #journal: RunJournal;
  readonly #waits: RunWaits;
  readonly #stepHost: StepHost;
  readonly #attemptRun: StepAttemptRun;
  readonly #abort = new AbortController();
  #inFlight = 0;
  #settled = false;
  #stopping = false;
  #draining = false;
  #crashed = false;
  #checkScheduled = false;
  #cancelDeadline: (() => void) | undefined;
  #settle!: (outcome: ExecutionOutcome) => void;

  constructor(
    env: ExecutionEnv,
    claimed: ClaimedRun,
    definition: Workflow<unknown, unknown>,
    journal: readonly JournalEntry[],
    checkLease?: StepAttemptRun["checkLease"],
  ) {
    this.#env = env;
    this.#claimed = claimed;
    this.#definition = definition;
    this.runId = claimed.run.id;
    this.workflow = claimed.run.workflow;
    this.#journal = new RunJournal(
      journal,
      (entry) => this.#writeEntry(entry),
      (error) => void this.#stopAndFail(error),
      () => this.#scheduleCheck(),
      env.writer,
    );
    this.log = this.#logger(null, null, () => this.#journal.live);
    this.done = new Promise((resolve) => {
      this.#settle = (outcome) => {
        if (this.#settled) return;
        this.#settled = true;
        this.#cancelDeadline?.();
        resolve(outcome);
      };
    });
    // Parallel waits and in-memory backoffs each listen to the run's abort: no fixed cap fits.
    setMaxListeners(0, this.#abort.signal);

    // What the extracted modules may touch of this run, and nothing more.
    const shared = {
      clock: env.clock,
      journal: this.#journal,
      claim: (kind: EntryKind, name: string) => this.#claimPosition(kind, name),
      track: (delta: 1 | -1) => {
        this.#inFlight += delta;
      },
      scheduleCheck: () => this.#scheduleCheck(),
      throwIfStopped: () => this.#throwIfStopped(),
      checkName: (what: string, value: unknown) => this.#checkName(what, value),
    };
    const patches = new RunPatches(shared);
    this.patched = (id) => patches.patched(id);
    this.deprecatePatch = (id) => patches.deprecatePatch(id);
    const abort = (reason: Error) => this.abort(reason);
    this.#waits = new RunWaits({ ...shared, abort, claimed, startChild: (r) => env.startChild(r) });
    this.#stepHost = {
      ...shared,
      runId: this.runId,
      workflow: this.workflow,
      signal: this.#abort.signal,
      retry: definition.options.retry,
      emit: (event) => env.emit(event),
      listening: () => env.listening?.() ?? true,
      draining: () => this.#draining,
      waitFor: (wait) => this.#waits.waitFor(wait),
    };
    this.#attemptRun = {
      runId: this.runId,
      workflow: this.workflow,
      clock: env.clock,
      signal: this.#abort.signal,
      onAbort: abortListeners(this.#abort.signal),
      captureConsole: env.logs?.captureConsole ?? false,
      reportUncaught: (error, leak) => env.reportUncaught?.(error, leak),
      checkLease,
    };
  }

  get scheduled(): WorkflowContext["scheduled"] {
    return scheduledSlot(this.#claimed.run);
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
    // Fails the run on a ctx call left un-awaited or made inside a step body.
    const guard = new CallGuard(this.runId, (error) => void this.#stopAndFail(error));
    Promise.resolve()
      .then(() => guard.run(this.#definition, this, input))
      .then(
        (value) => this.#onReturn(value),
        (error) => this.#onThrow(error),
      );
    return this.done;
  }

  /** Ends the run failed without running its function (a quarantined poison run). */
  failUnrun(error: Error): Promise<ExecutionOutcome> {
    void this.#finishFailed(error);
    return this.done;
  }

  /** Stops at once (lease lost, run cancelled): running steps see their signal abort. */
  abort(reason: Error): void {
    if (this.#settled) return;
    this.#abort.abort(reason);
    this.#settle({ type: "aborted", reason });
  }

  /** Shutdown: start no new step; then hand the run back (`crashed`: see CrashedRuns). */
  drain(crashed = false): void {
    this.#draining = true;
    this.#crashed ||= crashed;
    this.#scheduleCheck();
  }

  /** Shutdown deadline passed: hand the run back now; interrupted steps run again elsewhere. */
  async release(): Promise<void> {
    if (this.#settled || this.#stopping) return this.done.then(() => {});
    this.#abort.abort(new CairnError("CLOSED", "The worker is shutting down."));
    await this.#handBack();
  }

  async #handBack(): Promise<void> {
    this.#stopping = true;
    // Crashed: not released; the worker ends the lease, and the next claim counts a crash.
    if (this.#crashed) return this.abort(new CairnError("CLOSED", "Uncaught error; exiting."));
    const op = { type: "release", runId: this.runId, token: this.token, at: this.#now() } as const;
    await this.#writeFinal(op, { type: "released" });
  }

  // ---- the workflow context ----

  step<T>(name: string, fn: (info: StepRunInfo) => T | Promise<T>): Promise<Awaited<T>>;
  step<T>(
    name: string,
    options: StepOptions,
    fn: (info: StepRunInfo) => T | Promise<T>,
  ): Promise<Awaited<T>>;
  // Not async, nor its attempt: each promise costs every step (and async hooks, see StepScope).
  step<T>(
    name: string,
    optionsOrFn: StepOptions | ((info: StepRunInfo) => T | Promise<T>),
    maybeFn?: (info: StepRunInfo) => T | Promise<T>,
  ): Promise<Awaited<T>> {
    try {
      const { options, fn, timeoutMs } = stepArguments(name, optionsOrFn, maybeFn);
      return runStep<Awaited<T>>(this.#stepHost, "step", name, options, (key, attempt) => {
        const log = () => this.#logger(key, attempt);
        const output = `The output of step "${key}"`;
        return runStepAttempt(this.#attemptRun, fn, key, attempt, log, timeoutMs).then((value) =>
          serialize(value, output, this.#env.payloadLimitBytes),
        );
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // biome-ignore lint/suspicious/noExplicitAny: the handle's type depends on the store
  transaction<T, Tx = any>(
    name: string,
    fn: (tx: Tx) => T | Promise<T>,
    options: Omit<StepOptions, "timeout"> = {},
  ): Promise<Awaited<T>> {
    return transactionStep<T, Tx>(
      {
        runId: this.runId,
        token: this.token,
        env: this.#env,
        stepHost: this.#stepHost,
        logger: (key, attempt) => this.#logger(key, attempt),
        fenced: () => this.#fenced(),
      },
      name,
      fn,
      options,
    );
  }

  script<T = unknown>(name: string, options: ScriptOptions): Promise<T> {
    return scriptStep<T>(this, name, options);
  }

  sleep(name: string, duration: Duration): Promise<void> {
    return this.#waits.sleep(name, duration);
  }

  sleepUntil(name: string, until: Date | number): Promise<void> {
    return this.#waits.sleepUntil(name, until);
  }

  waitForEvent<T = unknown>(
    name: string,
    options: WaitForEventOptions,
  ): Promise<ReceivedEvent<T> | null> {
    return this.#waits.waitForEvent<T>(name, options);
  }

  waitForSignal<T = unknown>(name: string, options?: { timeout?: Duration }): Promise<T | null> {
    return this.#waits.waitForSignal<T>(name, options);
  }

  waitForAny<T = unknown>(name: string, options: WaitForAnyOptions) {
    return this.#waits.waitForAny<T>(name, options);
  }

  async continueAsNew(input: unknown): Promise<never> {
    // Built first: a bad input throws here, into the workflow. Replays build none.
    const successor = await this.#env.buildSuccessor?.(this.#claimed, this.#definition, input);
    await this.#onReturn(undefined, successor);
    return never();
  }

  invoke<I, O>(
    name: string,
    workflow: Workflow<I, O>,
    input: I,
    options?: { id?: string },
  ): Promise<O> {
    return this.#waits.invoke(name, workflow, input, options);
  }

  setTags(tags: Record<string, string>): Promise<void> {
    return setTagsStep(this, this.#env.store, this.runId, tags);
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

  /** Claims the next position for a value that must replay the same, and returns it. */
  #journaled<T>(kind: "now" | "random" | "uuid", produce: () => T): T {
    return this.#journal.value(this.#claimPosition(kind, kind), kind, produce, this.#env.clock);
  }

  #logger(stepKey: string | null, attempt: number | null, enabled?: () => boolean): StepLogger {
    return runLogger(this.#env.logs, this.runId, () => this.#now(), stepKey, attempt, enabled);
  }

  // ---- journal positions ----

  #claimPosition(kind: EntryKind, name: string): Claim {
    if (this.#settled || this.#stopping) {
      // The run already ended here (cancelled, lease lost, failed): leftover branches stop.
      throw this.#abort.signal.reason ?? new CairnError("CLOSED", "This execution has ended.");
    }
    this.#checkName(kind === "event" ? "waitForEvent name" : `${kind} name`, name);
    const { key, position, recorded, mismatch } = this.#journal.claim(kind, name);
    if (mismatch) {
      void this.#stopAndFail(mismatch);
      throw mismatch;
    }
    if (this.#env.replayOnly && recorded?.status !== "completed" && recorded?.status !== "failed") {
      this.#stopping = true;
      const frontier = new CairnError("CLOSED", "Replay reached the end of the recorded history.");
      this.#abort.abort(frontier);
      this.#settle({ type: "replayed", next: { position, kind, key } });
      throw frontier;
    }
    return { key, position, recorded, mismatch };
  }

  /**
   * A name the stores could not hold (see core/names.ts) fails the run at once, like a
   * non-determinism: it is a bug in the code, no retry or catch would write it anyway.
   */
  #checkName(what: string, value: unknown): void {
    try {
      checkName(what, value);
    } catch (error) {
      void this.#stopAndFail(error as Error);
      throw error;
    }
  }

  /** Makes one journal entry durable; the journal queues or awaits it. Not async: once per step. */
  #writeEntry(entry: JournalEntry): Promise<void> {
    const op = { type: "entry", runId: this.runId, token: this.token, entry } as const;
    return this.#env.writer.write(op).then(
      (result: JournalOpResult) => {
        if (!result.ok) throw this.#fenced();
      },
      (error: unknown) => {
        // The store failed (a lost connection, a restart): that is no outcome of the workflow.
        // Stop here; the run keeps its journal and is resumed once its lease lapses.
        const reason = ensureError(error);
        this.abort(reason);
        throw reason;
      },
    );
  }

  /** The store rejected a write: the run is no longer ours (lease lost or run cancelled). */
  #fenced(): Error {
    const reason = new LeaseLostError(this.runId);
    this.abort(reason);
    return reason;
  }

  // ---- suspension ----

  #scheduleCheck(): void {
    if (this.#checkScheduled || this.#settled) return;
    this.#checkScheduled = true;
    // After this turn's microtasks: a step that just finished may lead straight into the next.
    setImmediate(() => {
      this.#checkScheduled = false;
      if (this.#settled || this.#stopping || this.#inFlight > 0 || this.#journal.order.busy) return;
      if (this.#draining) void this.#handBack();
      else if (this.#waits.registered.length > 0) {
        void this.#suspend();
      }
    });
  }

  async #suspend(): Promise<void> {
    this.#stopping = true;
    const result = await this.#writeOp({
      type: "suspend",
      runId: this.runId,
      token: this.token,
      waits: this.#waits.registered,
      availableAt: this.#waits.availableAt(),
      at: this.#now(),
    });
    if (result?.ok) this.#settle({ type: "suspended", status: result.status ?? "waiting" });
  }

  // ---- ending ----

  /** Ends the run as a return does, but as the store creates `successor` (continue-as-new). */
  async #onReturn(value: unknown, successor?: Continue["successor"]): Promise<void> {
    if (this.#settled || this.#stopping) return;
    const unreached = this.#journal.unreached();
    if (unreached) return this.#stopAndFail(unreached);
    let output: string;
    try {
      output = serialize(value, `The output of run "${this.runId}"`, this.#env.payloadLimitBytes);
    } catch (error) {
      return this.#finishFailed(ensureError(error));
    }
    this.#stopping = true;
    const [runId, token, at] = [this.runId, this.token, this.#now()];
    await this.#writeFinal(
      successor
        ? { type: "continue", runId, token, successor, at }
        : { type: "complete", runId, token, output, at },
      { type: "completed", output, ...(successor ? { continuedTo: successor.id } : {}) },
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
    const stored = serializeError(error);
    await this.#writeFinal(
      { type: "fail", runId: this.runId, token: this.token, error: stored, at: this.#now() },
      { type: "failed", error, stored },
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
}
