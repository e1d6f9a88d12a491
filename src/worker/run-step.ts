import { type Span, SpanStatusCode, trace } from "@opentelemetry/api";
import type { Clock } from "../core/clock.ts";
import { delay } from "../core/clock.ts";
import { toMs } from "../core/duration.ts";
import type { EngineEvent } from "../core/engine-event.ts";
import { CairnError, ensureError, NonRetryableError, RetryableError } from "../core/errors.ts";
import {
  backoffDelay,
  type ResolvedRetryPolicy,
  type RetryPolicy,
  resolveRetryPolicy,
} from "../core/retry.ts";
import { deserialize, serializeError } from "../core/serializer.ts";
import type { RunId } from "../core/types.ts";
import type { StepOptions } from "../core/workflow.ts";
import type { JournalEntry, WaitRegistration } from "../store/store.ts";
import type { Claim, RunJournal } from "./run-journal.ts";
import { never } from "./run-waits.ts";

/** Retry backoffs longer than this suspend the run durably instead of waiting in memory. */
const durableBackoffMs = 5_000;

const tracer = trace.getTracer("cairn");

/** What the attempt loop needs from its run: the calls that touch the run's shared state. */
export interface StepHost {
  readonly runId: RunId;
  readonly workflow: string;
  readonly clock: Clock;
  readonly journal: RunJournal;
  /** The run's abort signal: in-memory backoffs end with it. */
  readonly signal: AbortSignal;
  /** The workflow's retry policy; a step's own options override it. */
  readonly retry: RetryPolicy | undefined;
  emit(event: EngineEvent): void;
  /** Whether anyone hears `emit` (two events per step, built for nobody otherwise). */
  listening(): boolean;
  /** Claims the next journal position (or throws if the run may not go on). */
  claim(kind: "step" | "transaction", name: string): Claim;
  /** Shutting down: start no new step. */
  draining(): boolean;
  /** Counts a step in flight (+1) or no longer (-1): a run with one may not suspend. */
  track(delta: 1 | -1): void;
  /** Asks the run to check, soon, whether it should suspend or hand itself back. */
  scheduleCheck(): void;
  waitFor<T>(wait: WaitRegistration): Promise<T>;
  throwIfStopped(): void;
}

/** ctx.step's arguments, its options being optional: the options, the function, its timeout. */
export function stepArguments<F>(
  name: string,
  optionsOrFn: StepOptions | F,
  maybeFn: F | undefined,
): { options: StepOptions; fn: F; timeoutMs: number | undefined } {
  const options = typeof optionsOrFn === "function" ? {} : ((optionsOrFn as StepOptions) ?? {});
  const fn = typeof optionsOrFn === "function" ? optionsOrFn : maybeFn;
  if (typeof fn !== "function") {
    throw new TypeError(`ctx.step("${name}") needs a function as its last argument.`);
  }
  const timeoutMs =
    options.timeout === undefined ? undefined : toMs(options.timeout, "step timeout");
  return { options, fn, timeoutMs };
}

/**
 * The attempt loop shared by steps and transactions: replays a recorded outcome, else
 * runs attempts until one succeeds or the policy gives up, recording each failure before
 * it backs off or throws. `attemptOnce` returns the serialized output. Outcomes reach the
 * workflow in delivery order (see DeliveryOrder), each journaled with its sequence number.
 */
export async function runStep<T>(
  host: StepHost,
  kind: "step" | "transaction",
  name: string,
  options: StepOptions,
  attemptOnce: (key: string, attempt: number, entry: () => JournalEntry) => Promise<string>,
): Promise<T> {
  const { journal, clock } = host;
  const { key, position, recorded } = host.claim(kind, name);
  if (recorded?.status === "completed" || recorded?.status === "failed") {
    return journal.replayed<T>(recorded);
  }

  const policy = retryPolicyFor(host.retry, options.retry);
  let attempt = recorded?.status === "retrying" ? recorded.attempt + 1 : 1;
  let retryAt = recorded?.status === "retrying" ? recorded.wakeAt : null;

  host.track(1);
  let counted = true;
  try {
    await journal.flushPending();
    if (host.draining()) {
      counted = false;
      host.track(-1);
      host.scheduleCheck();
      return never<T>();
    }
    for (;;) {
      if (retryAt !== null && retryAt > clock.now()) {
        if (retryAt - clock.now() > durableBackoffMs) {
          // A long backoff waits like a sleep: no slot, no memory, survives restarts.
          counted = false;
          host.track(-1);
          return host.waitFor<T>({ kind: "retry", position, key, wakeAt: retryAt });
        }
        await delay(clock, retryAt - clock.now(), host.signal);
      }
      host.throwIfStopped();
      const startedAt = clock.now();
      const entry = (): JournalEntry => ({
        position,
        key,
        kind,
        status: "completed",
        output: null,
        error: null,
        attempt,
        startedAt,
        finishedAt: clock.now(),
        wakeAt: null,
        detail: null,
        seq: null,
      });
      emitStep(host, key, kind, "started", attempt, startedAt);
      const span = tracer.startSpan(`cairn.${kind} ${key}`, {
        attributes: { "cairn.run_id": host.runId, "cairn.step": key, "cairn.attempt": attempt },
      });
      try {
        const output = await attemptOnce(key, attempt, entry);
        span.end();
        const { seq, turn } = journal.order.liveTurn();
        // Not awaited here: the next step, or the run's end, waits for it (group commit).
        journal.record({ ...entry(), output, seq });
        await turn;
        emitStep(host, key, kind, "completed", attempt, startedAt);
        return deserialize<T>(output);
      } catch (thrown) {
        endWithError(span, thrown);
        host.throwIfStopped();
        const error = ensureError(thrown);
        const final = attempt >= policy.maxAttempts || !isRetryable(error);
        const backoff =
          error instanceof RetryableError && error.retryAfterMs !== undefined
            ? error.retryAfterMs
            : backoffDelay(policy, attempt + 1);
        retryAt = final ? null : clock.now() + backoff;
        const failed = { ...entry(), error: serializeError(error), wakeAt: retryAt };
        // A final failure is an outcome the workflow sees: it takes its turn like a result.
        const delivery = final ? journal.order.liveTurn() : undefined;
        await journal.recordNow({
          ...failed,
          status: final ? "failed" : "retrying",
          seq: delivery?.seq ?? null,
        });
        await delivery?.turn;
        emitStep(host, key, kind, final ? "failed" : "retrying", attempt, startedAt, error);
        if (final) throw error;
        attempt++;
      }
    }
  } finally {
    if (counted) host.track(-1);
    host.scheduleCheck();
  }
}

const defaultPolicy = resolveRetryPolicy();
const workflowPolicies = new WeakMap<RetryPolicy, ResolvedRetryPolicy>();

/** The policy of a step: resolved once per workflow unless the step has its own. */
function retryPolicyFor(
  workflow: RetryPolicy | undefined,
  step: RetryPolicy | undefined,
): ResolvedRetryPolicy {
  if (step) return resolveRetryPolicy(workflow, step);
  if (!workflow) return defaultPolicy;
  let policy = workflowPolicies.get(workflow);
  if (!policy) {
    policy = resolveRetryPolicy(workflow);
    workflowPolicies.set(workflow, policy);
  }
  return policy;
}

function emitStep(
  host: StepHost,
  key: string,
  kind: "step" | "transaction",
  status: "started" | "completed" | "failed" | "retrying",
  attempt: number,
  startedAt: number,
  error?: Error,
): void {
  if (!host.listening()) return;
  const at = host.clock.now();
  host.emit({
    type: "step",
    runId: host.runId,
    workflow: host.workflow,
    key,
    kind,
    status,
    attempt,
    at,
    ...(status === "started" ? {} : { durationMs: at - startedAt }),
    ...(error ? { error: { name: error.name, message: error.message } } : {}),
  });
}

function endWithError(span: Span, thrown: unknown): void {
  const error = ensureError(thrown);
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  span.end();
}

function isRetryable(error: Error): boolean {
  if (error instanceof NonRetryableError) return false;
  return !(
    CairnError.is(error) &&
    ["NON_RETRYABLE", "NON_DETERMINISM", "PAYLOAD_TOO_LARGE", "SERIALIZATION"].includes(error.code)
  );
}
