import type { Clock } from "../core/clock.ts";
import { StepTimeoutError } from "../core/errors.ts";
import type { RunId } from "../core/types.ts";
import type { StepRunInfo } from "../core/workflow.ts";
import { AttemptSignal, type RunAbort } from "./attempt-signal.ts";
import type { ExecutionEnv } from "./execution-env.ts";
import type { StepLogger } from "./step-logger.ts";
import { leakTrap, runInStepScope } from "./step-scope.ts";

/**
 * What one attempt of a step needs from its run; passed in so the attempt owns no run state.
 * The run's abort (`signal`, `onAbort`) ends the attempt and aborts the attempt's own signal.
 */
export interface StepAttemptRun extends RunAbort {
  runId: RunId;
  workflow: string;
  clock: Clock;
  /** Whether the attempt's console output goes to its log. */
  captureConsole: boolean;
  /** Hears of an error the attempt leaked past its own promise. */
  reportUncaught: NonNullable<ExecutionEnv["reportUncaught"]>;
  /** Aborts the run if its lease may be another worker's by now: the attempt must not start. */
  checkLease?: () => void;
}

/**
 * Runs one attempt of a step function. The attempt settles with the first of: the function's
 * own outcome, the run aborting, an error it leaked (timer, stray rejection) or its timeout.
 * Whatever ends it early aborts the attempt's signal, so well-behaved code stops too.
 *
 * One promise settled by whichever comes first, not a `Promise.race`: this runs for every
 * step, and a race adds a promise per contender (and a reaction on the run's abort that
 * would stay until the run ends).
 */
export function runStepAttempt<T>(
  run: StepAttemptRun,
  fn: (info: StepRunInfo) => T | Promise<T>,
  key: string,
  attempt: number,
  makeLog: () => StepLogger,
  timeoutMs: number | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // Made on first use too: most steps never log.
    let logger: StepLogger | undefined;
    const log = () => {
      logger ??= makeLog();
      return logger;
    };
    const signal = new AttemptSignal(run);
    let settled = false;
    let cancelTimer: (() => void) | undefined;
    let stopListening: (() => void) | undefined;
    const end = (): boolean => {
      if (settled) return false;
      settled = true;
      trap.settle();
      cancelTimer?.();
      stopListening?.();
      signal.detach();
      return true;
    };
    const fail = (error: unknown) => {
      signal.abort(error);
      if (end()) reject(error);
    };
    const trap = leakTrap(
      run.runId,
      run.workflow,
      key,
      attempt,
      run.captureConsole ? (level, message) => log().log(level, message) : undefined,
      (error, leak) => {
        run.reportUncaught(error, leak);
        if (leak.attributed === "step") fail(error);
      },
    );
    run.checkLease?.();
    if (run.signal.aborted) {
      fail(run.signal.reason);
      return;
    }
    stopListening = run.onAbort(() => fail(run.signal.reason));
    if (timeoutMs !== undefined) {
      cancelTimer = run.clock.setTimer(run.clock.now() + timeoutMs, () =>
        fail(new StepTimeoutError(key, timeoutMs)),
      );
    }
    const info: StepRunInfo = {
      get signal() {
        return signal.signal;
      },
      attempt,
      idempotencyKey: `${run.runId}:${key}`,
      runId: run.runId,
      step: key,
      get log() {
        return log();
      },
    };
    const succeed = (value: T) => {
      if (end()) resolve(value);
    };
    const failWith = (error: unknown) => {
      if (end()) reject(error);
    };
    // Called here, not a microtask later: the step already waited for its run's writes, and
    // a step that returns a plain value then costs no promise of its own.
    let result: T | Promise<T>;
    try {
      result = runInStepScope(trap.scope, () => fn(info));
    } catch (error) {
      failWith(error);
      return;
    }
    if (result instanceof Promise) result.then(succeed, failWith);
    else if (isThenable(result)) Promise.resolve(result).then(succeed, failWith);
    else succeed(result);
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
