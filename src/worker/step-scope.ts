import { AsyncLocalStorage } from "node:async_hooks";
import type { RunId } from "../core/types.ts";
import type { LogLevel } from "../store/ui-store.ts";

/** Where the console output of the code running in a step goes (besides the console). */
export type LogSink = (level: LogLevel, message: string) => void;

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

/**
 * The async context of the code a step runs: what its timers and promises inherit. A step
 * attempt's scope traps the errors it leaks; a transaction body's only collects its logs.
 */
export interface StepScope {
  readonly kind: "step" | "transaction";
  readonly runId: RunId;
  readonly workflow: string;
  readonly step: string;
  readonly attempt: number;
  /** Called with an uncaught error raised anywhere in a step attempt's async context. */
  readonly onUncaught?: (error: Error, source: UncaughtErrorInfo["source"]) => void;
  /** Where the console output of the code in this scope goes, when the worker captures it. */
  readonly log?: LogSink;
}

/** The async context of a workflow function's own code, outside its steps. */
export interface RunScope {
  readonly kind: "run";
  readonly runId: RunId;
  readonly workflow: string;
}

/** Which run, and which step of it, the code running now belongs to. */
export interface CodeOwner {
  runId: RunId;
  workflow: string;
  step?: string;
}

// AsyncLocalStorage follows the attempt into every timer, promise and callback it creates,
// and Node reports uncaught errors and unhandled rejections inside the originating context.
// One storage serves error attribution, console capture and the CLI's console labels alike:
// on Node 20 every storage in use adds its own propagation work to every promise the process
// creates (a second one, the CLI's, cost a `cairn worker` 6–13 % more CPU per step).
const storage = new AsyncLocalStorage<StepScope | RunScope>();

/** Runs `fn` (a step attempt or transaction body) inside `scope`. */
export function runInStepScope<T>(scope: StepScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** Runs `fn` (a workflow function) inside its run's scope; its steps nest their own. */
export function runInRunScope<T>(runId: RunId, workflow: string, fn: () => T): T {
  return storage.run({ kind: "run", runId, workflow }, fn);
}

/** The step whose async context is current, if any. */
export function currentStepScope(): StepScope | undefined {
  const scope = storage.getStore();
  return scope?.kind === "run" ? undefined : scope;
}

/** The run (and step) whose code is running now, if any: for labelling what it prints. */
export function currentCodeOwner(): CodeOwner | undefined {
  const scope = storage.getStore();
  if (!scope) return undefined;
  const owner = { runId: scope.runId, workflow: scope.workflow };
  return scope.kind === "run" ? owner : { ...owner, step: scope.step };
}

/** Runs `fn` outside any step's scope (what it prints or leaks is not that step's). */
export function outsideStepScope<T>(fn: () => T): T {
  return storage.exit(fn);
}

/**
 * The scope of one attempt and the function that says it has ended. A leak while the attempt
 * runs is reported as `step` (the caller fails the attempt with it); after `settle()` only as
 * `late`: the attempt's outcome may already be recorded, and failing a completed step would
 * make the journal say two things.
 */
export function leakTrap(
  runId: RunId,
  workflow: string,
  step: string,
  attempt: number,
  log: LogSink | undefined,
  report: (error: Error, info: Omit<UncaughtErrorInfo, "runsInFlight">) => void,
): { scope: StepScope; settle(): void } {
  let settled = false;
  const scope: StepScope = {
    kind: "step",
    runId,
    workflow,
    step,
    attempt,
    ...(log ? { log } : {}),
    onUncaught(error, source) {
      report(error, {
        source,
        attributed: settled ? "late" : "step",
        runId,
        workflow,
        step,
        attempt,
      });
    },
  };
  return {
    scope,
    settle() {
      settled = true;
    },
  };
}
