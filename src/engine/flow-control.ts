import { toMs } from "../core/duration.ts";
import { CairnError } from "../core/errors.ts";
import { nameProblem } from "../core/names.ts";
import type { Workflow } from "../core/workflow.ts";
import type { NewRun } from "../store/store.ts";

/** The flow-control columns of a new run, from its workflow's options and its input. */
export function flowControlFor(
  workflow: Workflow<unknown, unknown>,
  input: unknown,
): Pick<NewRun, "queue" | "priority" | "concurrency" | "rateLimit" | "debounce"> {
  const { concurrency, rateLimit, debounce, priority, queue } = workflow.options;
  return {
    queue: queue ?? "default",
    priority: typeof priority === "function" ? checkPriority(priority(input)) : (priority ?? 0),
    concurrency: concurrency
      ? { key: keyOf(concurrency.key, input, "concurrency"), limit: concurrency.limit }
      : null,
    rateLimit: rateLimit
      ? {
          key: keyOf(rateLimit.key, input, "rateLimit"),
          limit: rateLimit.limit,
          periodMs: toMs(rateLimit.period, "rateLimit.period"),
        }
      : null,
    debounce: debounce
      ? {
          key: keyOf(debounce.key, input, "debounce"),
          periodMs: toMs(debounce.period, "debounce.period"),
        }
      : null,
  };
}

/** True when a run of this workflow must pass the store's admission (not handed over directly). */
export function hasFlowControl(workflow: Workflow<unknown, unknown>): boolean {
  const { concurrency, rateLimit, debounce } = workflow.options;
  return Boolean(concurrency || rateLimit || debounce);
}

/** A flow-control key from `key(input)`: a string or number that obeys the rules of names. */
export function keyOf(
  key: ((input: never) => unknown) | undefined,
  input: unknown,
  option: string,
): string {
  if (!key) return "";
  const value = key(input as never);
  if (typeof value !== "string" && typeof value !== "number") {
    throw new CairnError(
      "INVALID_INPUT",
      `The ${option}.key function returned ${typeof value}; it must return a string or a number.`,
    );
  }
  // The key is a column both stores index: it obeys the rules of names (see core/names.ts).
  const text = String(value);
  const problem = text === "" ? undefined : nameProblem(text);
  if (problem !== undefined) {
    const shown = text.length > 64 ? `${text.slice(0, 64)}…` : text;
    throw new CairnError(
      "INVALID_INPUT",
      `The ${option}.key function returned ${JSON.stringify(shown)}, which ${problem}.`,
    );
  }
  return text;
}

function checkPriority(value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new CairnError(
      "INVALID_INPUT",
      `The priority function returned ${String(value)}; it must return a finite number.`,
    );
  }
  return Math.round(value);
}
