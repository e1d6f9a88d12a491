import type { StandardSchemaV1 } from "@standard-schema/spec";
import { type Duration, toMs } from "../core/duration.ts";
import type { RetryPolicy } from "../core/retry.ts";
import { resolveRetryPolicy } from "../core/retry.ts";
import type { CatchupPolicy, OverlapPolicy } from "../store/store.ts";
import type { WorkflowContext } from "./context.ts";
import { validateFlowControl } from "./validate-options.ts";

export interface WorkflowOptions<TInput> {
  /** Unique name; runs refer to their workflow by it. */
  name: string;
  /** Validates the input at `start` (zod or any Standard Schema). Invalid input creates no run. */
  input?: StandardSchemaV1<unknown, TInput>;
  /** Default retry policy of this workflow's steps. */
  retry?: RetryPolicy;
  /** Time limit of a whole run, from its start; past it the run fails with `RunTimeoutError`. */
  timeout?: Duration;
  /**
   * What starts runs besides `cairn.start`: an event (`if`: a jsonata condition over
   * `{ event }`, e.g. `"event.data.total > 100"`) or a cron schedule.
   */
  triggers?: Trigger[];
  /** At most `limit` runs executing at once, per `key(input)` when given. Waiting runs hold no slot. */
  concurrency?: { limit: number; key?: (input: TInput) => string | number };
  /** At most `limit` runs started per `period`, per `key(input)` when given. */
  rateLimit?: { limit: number; period: Duration; key?: (input: TInput) => string | number };
  /** Start after `period` without a newer start of the same `key(input)`; the last input wins. */
  debounce?: { period: Duration; key?: (input: TInput) => string | number };
  /** Higher runs first among due runs. */
  priority?: number | ((input: TInput) => number);
  /** Only workers subscribed to this queue run it. (Default: "default") */
  queue?: string;
}

export type Trigger =
  | { event: string; if?: string }
  | {
      cron: string;
      /** IANA time zone. (Default: "UTC") */
      tz?: string;
      /** When a slot comes while the previous run still runs. (Default: "skip") */
      overlap?: OverlapPolicy;
      /** Slots missed while no scheduler ran. (Default: "latest") */
      catchup?: CatchupPolicy;
      /** The input of every scheduled run. */
      input?: TInputless;
    };

type TInputless = unknown;

export type WorkflowFunction<TInput, TOutput> = (
  ctx: WorkflowContext,
  input: TInput,
) => Promise<TOutput> | TOutput;

/** A workflow definition: register it with `Cairn.open({ workflows })`, start it with `cairn.start`. */
export interface Workflow<TInput = unknown, TOutput = unknown> {
  readonly name: string;
  readonly options: WorkflowOptions<TInput>;
  readonly fn: WorkflowFunction<TInput, TOutput>;
  /** Run time limit in ms, if any. */
  readonly timeoutMs: number | undefined;
  readonly kind: "cairn.workflow";
}

/**
 * Defines a durable workflow.
 * @example
 * export const processOrder = defineWorkflow({ name: "process-order" }, async (ctx, order: Order) => {
 *   const payment = await ctx.step("charge", () => charge(order));
 *   return ctx.step("ship", () => ship(payment));
 * });
 * @throws TypeError when the name is empty or an option is malformed.
 */
export function defineWorkflow<TInput, TOutput>(
  options: WorkflowOptions<TInput>,
  fn: WorkflowFunction<TInput, TOutput>,
): Workflow<TInput, Awaited<TOutput>> {
  if (!options || typeof options.name !== "string" || options.name.trim() === "") {
    throw new TypeError("defineWorkflow needs a non-empty `name`.");
  }
  if (typeof fn !== "function") {
    throw new TypeError(`defineWorkflow("${options.name}") needs a workflow function.`);
  }
  resolveRetryPolicy(options.retry); // fail at definition, not at the first retry
  validateFlowControl(options);
  const timeoutMs =
    options.timeout === undefined
      ? undefined
      : toMs(options.timeout, `timeout of "${options.name}"`);
  return {
    name: options.name,
    options,
    fn: fn as WorkflowFunction<TInput, Awaited<TOutput>>,
    timeoutMs,
    kind: "cairn.workflow",
  };
}

/**
 * Any workflow, whatever its input and output. `Workflow` is invariant in its input (the
 * schema produces it, the function consumes it), so only `any` admits them all.
 */
// biome-ignore lint/suspicious/noExplicitAny: a list of workflows of different input types
export type AnyWorkflow = Workflow<any, any>;

export function isWorkflow(value: unknown): value is Workflow {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { kind?: unknown }).kind === "cairn.workflow"
  );
}
