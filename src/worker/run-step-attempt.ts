import type { Clock } from "../core/clock.ts";
import { StepTimeoutError } from "../core/errors.ts";
import type { RunId } from "../core/types.ts";
import type { StepRunInfo } from "../core/workflow.ts";
import type { ExecutionEnv } from "./execution-env.ts";
import type { StepLogger } from "./step-logger.ts";
import { leakTrap, runInStepScope } from "./step-scope.ts";

/** What one attempt of a step needs from its run; passed in so the attempt owns no run state. */
export interface StepAttemptRun {
  runId: RunId;
  workflow: string;
  clock: Clock;
  /** The run's abort signal: aborting it aborts the attempt's own signal. */
  signal: AbortSignal;
  /** Rejects with the run's abort reason, so an attempt that ignores its signal still ends. */
  aborted: Promise<never>;
  /** Whether the attempt's console output goes to its log. */
  captureConsole: boolean;
  /** Hears of an error the attempt leaked past its own promise. */
  reportUncaught: NonNullable<ExecutionEnv["reportUncaught"]>;
}

/**
 * Runs one attempt of a step function. The attempt settles with the first of: the function's
 * own outcome, the run aborting, an error it leaked (timer, stray rejection) or its timeout.
 * Whatever ends it aborts the attempt's signal, so well-behaved code stops too.
 */
export async function runStepAttempt<T>(
  run: StepAttemptRun,
  fn: (info: StepRunInfo) => T | Promise<T>,
  key: string,
  attempt: number,
  log: StepLogger,
  timeoutMs: number | undefined,
): Promise<T> {
  const controller = new AbortController();
  const onRunAbort = () => controller.abort(run.signal.reason);
  run.signal.addEventListener("abort", onRunAbort, { once: true });
  const info: StepRunInfo = {
    signal: controller.signal,
    attempt,
    idempotencyKey: `${run.runId}:${key}`,
    runId: run.runId,
    step: key,
    log,
  };
  const { scope, leaked, settle } = leakTrap(
    run.runId,
    run.workflow,
    key,
    attempt,
    run.captureConsole ? (level, message) => log.log(level, message) : undefined,
    (error, leak) => {
      run.reportUncaught(error, leak);
      if (leak.attributed === "step") controller.abort(error);
    },
  );
  const racers: Promise<T>[] = [
    Promise.resolve().then(() => runInStepScope(scope, () => fn(info))),
    run.aborted,
    leaked,
  ];
  let cancelTimer: (() => void) | undefined;
  if (timeoutMs !== undefined) {
    racers.push(
      new Promise<never>((_, reject) => {
        cancelTimer = run.clock.setTimer(run.clock.now() + timeoutMs, () => {
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
    settle();
    cancelTimer?.();
    run.signal.removeEventListener("abort", onRunAbort);
  }
}
