import { ensureError } from "../core/errors.ts";
import { currentStepScope, type UncaughtErrorInfo } from "./step-scope.ts";

/** Receives an uncaught error that no step's async context claims. */
export type UnattributedErrorHandler = (error: Error, source: UncaughtErrorInfo["source"]) => void;

const handlers = new Set<UnattributedErrorHandler>();

function dispatch(value: unknown, source: UncaughtErrorInfo["source"]): void {
  const error = ensureError(value);
  const onUncaught = currentStepScope()?.onUncaught;
  if (onUncaught) onUncaught(error, source);
  else for (const handler of handlers) handler(error, source);
}

const onException = (error: unknown) => dispatch(error, "uncaughtException");
const onRejection = (reason: unknown) => dispatch(reason, "unhandledRejection");

/**
 * Routes the process's uncaught exceptions and unhandled rejections while a worker runs:
 * those raised in a step attempt's context go to that attempt, the rest to `handler` (every
 * worker of the process). The process listeners exist only while some worker holds a trap,
 * so a process without a running worker keeps Node's default (print and exit).
 * Returns the function that removes this worker's trap.
 */
export function trapUncaughtErrors(handler: UnattributedErrorHandler): () => void {
  if (handlers.size === 0) {
    process.on("uncaughtException", onException);
    process.on("unhandledRejection", onRejection);
  }
  handlers.add(handler);
  return () => {
    if (!handlers.delete(handler) || handlers.size > 0) return;
    process.off("uncaughtException", onException);
    process.off("unhandledRejection", onRejection);
  };
}
