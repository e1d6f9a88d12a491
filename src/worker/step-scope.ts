import { AsyncLocalStorage } from "node:async_hooks";
import type { RunId } from "../core/types.ts";

/** Where an uncaught error came from, as far as the async context tells. */
export interface UncaughtErrorInfo {
  /** The process event that reported it. */
  source: "uncaughtException" | "unhandledRejection";
  /**
   * `step`: raised in a step attempt's async context while the attempt ran; the attempt fails
   * with it. `late`: raised in a step's context after the attempt had ended; logged, the
   * recorded outcome stands. `none`: no step's context; the worker cannot know what it broke.
   */
  attributed: "step" | "late" | "none";
  runId?: RunId;
  workflow?: string;
  step?: string;
  attempt?: number;
  /** Runs executing in this process's workers when the error arrived. */
  runsInFlight: RunId[];
}

/** The async context of one step attempt: what its timers and promises inherit. */
export interface StepScope {
  readonly runId: RunId;
  readonly workflow: string;
  readonly step: string;
  readonly attempt: number;
  /** Called with an uncaught error raised anywhere in this attempt's async context. */
  onUncaught(error: Error, source: UncaughtErrorInfo["source"]): void;
}

// AsyncLocalStorage follows the attempt into every timer, promise and callback it creates,
// and Node reports uncaught errors and unhandled rejections inside the originating context.
const storage = new AsyncLocalStorage<StepScope>();

/** Runs `fn` (a step attempt) inside `scope`, so errors it leaks can be traced back to it. */
export function runInStepScope<T>(scope: StepScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The step attempt whose async context is current, if any. */
export function currentStepScope(): StepScope | undefined {
  return storage.getStore();
}

/**
 * The scope of one attempt, with `leaked`: a promise that rejects with the first error the
 * attempt leaks while it runs (raced against the attempt itself). Leaks after `settle()` are
 * only reported (`late`): the attempt's outcome may already be recorded, and failing a
 * completed step would make the journal say two things.
 */
export function leakTrap(
  runId: RunId,
  workflow: string,
  step: string,
  attempt: number,
  report: (error: Error, info: Omit<UncaughtErrorInfo, "runsInFlight">) => void,
): { scope: StepScope; leaked: Promise<never>; settle(): void } {
  let settled = false;
  let reject: (error: Error) => void = () => {};
  const leaked = new Promise<never>((_, r) => {
    reject = r;
  });
  // The race subscribes to it; this keeps a rejection after the race from counting as unhandled.
  leaked.catch(() => {});
  const scope: StepScope = {
    runId,
    workflow,
    step,
    attempt,
    onUncaught(error, source) {
      report(error, {
        source,
        attributed: settled ? "late" : "step",
        runId,
        workflow,
        step,
        attempt,
      });
      if (!settled) reject(error);
    },
  };
  return {
    scope,
    leaked,
    settle() {
      settled = true;
    },
  };
}
