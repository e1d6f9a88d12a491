/**
 * Every error Cairn raises is a {@link CairnError} with a string `code`. Retry semantics
 * travel with the class: {@link NonRetryableError} stops a step's retries, everything else
 * is retried per the step's policy.
 */
export const errorCodes = [
  "NON_RETRYABLE",
  "RETRYABLE",
  "NON_DETERMINISM",
  "STEP_TIMEOUT",
  "RUN_TIMEOUT",
  "RUN_CANCELLED",
  "RUN_NOT_FOUND",
  "NOT_FOUND",
  "RUN_NOT_ACTIVE",
  "INVALID_STATE",
  "WORKFLOW_NOT_FOUND",
  "INVALID_INPUT",
  "INVALID_ARGUMENT",
  "PAYLOAD_TOO_LARGE",
  "SERIALIZATION",
  "LEASE_LOST",
  "MAX_DEPTH_EXCEEDED",
  "CLOSED",
  "STORE_UNAVAILABLE",
  "STORAGE_FULL",
  "RUN_FAILED",
  "FLOW_INVALID",
  "POISON_RUN",
  "UNAWAITED_CALL",
  "CONTEXT_IN_STEP",
  "INVALID_CONFIG",
  "LIMIT_EXCEEDED",
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/** True for a code Cairn itself raises (not Node's `ERR_*` or a driver's). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && (errorCodes as readonly string[]).includes(code);
}

/**
 * Marks Cairn's errors on the prototype, under a registry symbol: two copies of the package
 * share it, and errors rebuilt from the journal with `Object.create(prototype)` carry it.
 */
const brand = Symbol.for("cairnjs.error");

export class CairnError extends Error {
  override name = "CairnError";
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }

  /**
   * True for Cairn's own errors, also those made by another copy of the package; false for
   * other errors that merely carry a string `code` (Node's `ERR_*`, SQLite's, postgres.js's).
   */
  static is(error: unknown): error is CairnError {
    return (
      error instanceof Error &&
      (error as unknown as Record<symbol, unknown>)[brand] === true &&
      typeof (error as { code?: unknown }).code === "string"
    );
  }
}
Object.defineProperty(CairnError.prototype, brand, { value: true });

/**
 * Thrown from a step to fail it at once, without further attempts.
 * @example throw new NonRetryableError("card declined")
 */
export class NonRetryableError extends CairnError {
  override name = "NonRetryableError";
  constructor(message: string, options?: ErrorOptions) {
    super("NON_RETRYABLE", message, options);
  }
}

/** Thrown from a step to ask for another attempt, optionally after a given delay. */
export class RetryableError extends CairnError {
  override name = "RetryableError";
  /** Delay before the next attempt in ms, overriding the policy's backoff. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: ErrorOptions & { retryAfterMs?: number }) {
    super("RETRYABLE", message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** The code no longer calls the steps its journal recorded (G6). Never retried. */
export class NonDeterminismError extends CairnError {
  override name = "NonDeterminismError";
  readonly position: number;
  readonly expected: string;
  readonly found: string;
  constructor(position: number, expected: string, found: string) {
    super(
      "NON_DETERMINISM",
      `Non-determinism at journal position ${position}: the journal recorded ${expected} but the code now calls ${found}. ` +
        "Code between steps must be deterministic. To change a workflow under runs in flight, guard the change with ctx.patched(id) or register the new code as a new version beside the old one; `cairn replay --all` checks a deploy first. " +
        "A value that differs from one execution to the next (Math.random(), Date.now(), new Date(), crypto.randomUUID()) " +
        "must not steer which ctx calls the workflow makes: use ctx.random(), ctx.now() or ctx.uuid(), or compute it inside a step.",
    );
    this.position = position;
    this.expected = expected;
    this.found = found;
  }
}

/**
 * A `ctx` call whose promise the workflow did not await: found at the next `ctx` call made
 * in a later turn, or when the workflow function returned. Its step would otherwise run
 * unseen, possibly after the run completed. Never retried; the run fails.
 */
export class UnawaitedCallError extends CairnError {
  override name = "UnawaitedCallError";
  /** The call that was not awaited, e.g. `ctx.step("charge")`. */
  readonly call: string;
  /** `where` says when it was found: `before ctx.step("ship")` or `when the workflow returned`. */
  constructor(call: string, where: string) {
    super(
      "UNAWAITED_CALL",
      `${call} was not awaited: it was still pending, unobserved, ${where}. ` +
        `Fix: write \`await ${call}\`; to run calls concurrently, start them together and await ` +
        "them together (`await Promise.all([ctx.step(...), ctx.step(...)])`).",
    );
    this.call = call;
  }
}

/**
 * A `ctx` call made inside the body of a step (or from a timer or promise the body
 * started): the body runs once and only its result is recorded, so the call would happen
 * again, or not at all, when the run replays. Never retried; the run fails.
 */
export class ContextInStepError extends CairnError {
  override name = "ContextInStepError";
  /** The call, e.g. `ctx.now()`. */
  readonly call: string;
  /** The key of the step whose body made it. */
  readonly step: string;
  constructor(call: string, step: string) {
    super(
      "CONTEXT_IN_STEP",
      `${call} was called inside the body of step "${step}"; ctx calls belong to the workflow function, between steps. ` +
        "Fix: make the call before the step and pass its result in, start a nested step after this one returns, " +
        "or inside the body use plain code (Date.now(), crypto.randomUUID(); the step's output is what is recorded) " +
        "and the step's own argument (signal, attempt, idempotencyKey, log).",
    );
    this.call = call;
    this.step = step;
  }
}

export class StepTimeoutError extends CairnError {
  override name = "StepTimeoutError";
  constructor(step: string, timeoutMs: number) {
    super("STEP_TIMEOUT", `Step "${step}" timed out after ${timeoutMs} ms.`);
  }
}

export class RunTimeoutError extends CairnError {
  override name = "RunTimeoutError";
  constructor(timeoutMs: number) {
    super("RUN_TIMEOUT", `The run exceeded its workflow timeout of ${timeoutMs} ms.`);
  }
}

export class RunCancelledError extends CairnError {
  override name = "RunCancelledError";
  constructor(runId: string) {
    super("RUN_CANCELLED", `Run "${runId}" was cancelled.`);
  }
}

/** This worker no longer owns the run: another worker took it over or the lease expired. */
export class LeaseLostError extends CairnError {
  override name = "LeaseLostError";
  constructor(runId: string) {
    super("LEASE_LOST", `This worker lost the lease of run "${runId}"; its writes were rejected.`);
  }
}

/**
 * Quarantine: workers kept dying while they ran this run (the process exited, was killed,
 * crashed in native code) without its journal moving on, so it is not run again.
 */
export class PoisonRunError extends CairnError {
  override name = "PoisonRunError";
  /**
   * `inFlight`: the step whose attempt was running when they died, if the journal names it;
   * otherwise `after`: the last step recorded (none: it died before its first).
   */
  constructor(deaths: number, where: { inFlight?: string; after?: string }) {
    const place = where.inFlight
      ? `in step "${where.inFlight}"`
      : where.after
        ? `after step "${where.after}", before the next step recorded anything`
        : "before its first step recorded anything";
    super(
      "POISON_RUN",
      `The run was quarantined: ${deaths} workers in a row died running it ${place}. ` +
        "Fix the code that ends the process, then retry the run.",
    );
  }
}

export class PayloadTooLargeError extends CairnError {
  override name = "PayloadTooLargeError";
  constructor(what: string, bytes: number, limit: number) {
    super(
      "PAYLOAD_TOO_LARGE",
      `${what} is ${bytes} bytes once serialized, over the payload limit of ${limit} bytes. ` +
        "Store large data elsewhere and pass a reference, or raise `payloadLimitBytes`.",
    );
  }
}

export class SerializationError extends CairnError {
  override name = "SerializationError";
  constructor(what: string, cause: unknown) {
    super("SERIALIZATION", `${what} cannot be serialized: ${errorMessage(cause)}`, { cause });
  }
}

/**
 * An option Cairn does not know, or one it knows with a value it cannot use, caught where
 * the options are given (`defineWorkflow`, `cairn.start`) instead of being silently ignored.
 */
export class ConfigError extends CairnError {
  override name = "ConfigError";
  constructor(message: string) {
    super("INVALID_CONFIG", message);
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Turns anything thrown into an Error, with a capped message, without throwing itself. */
export function ensureError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  let message: string;
  try {
    message = typeof thrown === "string" ? thrown : JSON.stringify(thrown);
  } catch {
    message = Object.prototype.toString.call(thrown);
  }
  return new Error(`Non-error thrown: ${String(message).slice(0, 10_000)}`);
}
