import { toMs } from "../core/duration.ts";
import { checkName } from "../core/names.ts";
import { resolveRetryPolicy } from "../core/retry.ts";
import type { Workflow, WorkflowFunction, WorkflowOptions } from "../core/workflow.ts";
import { checkVersion } from "../core/workflow-version.ts";
import { checkKnownOptions } from "../engine/check-known-options.ts";
import { checkIdempotency } from "../engine/idempotency.ts";
import { validateFlowControl } from "../engine/validate-options.ts";

/**
 * Defines a durable workflow.
 * @example
 * export const processOrder = defineWorkflow({ name: "process-order" }, async (ctx, order: Order) => {
 *   const payment = await ctx.step("charge", () => charge(order));
 *   return ctx.step("ship", () => ship(payment));
 * });
 * @throws TypeError when the name is empty or an option is malformed; `InvalidNameError` when
 * the name is too long or holds a control character; `ConfigError` for an unknown option or
 * a malformed `idempotency`.
 */
export function defineWorkflow<TInput, TOutput>(
  options: WorkflowOptions<TInput>,
  fn: WorkflowFunction<TInput, TOutput>,
): Workflow<TInput, Awaited<TOutput>> {
  if (!options || typeof options.name !== "string" || options.name.trim() === "") {
    throw new TypeError("defineWorkflow needs a non-empty `name`.");
  }
  checkName("workflow name", options.name);
  if (typeof fn !== "function") {
    throw new TypeError(`defineWorkflow("${options.name}") needs a workflow function.`);
  }
  checkVersion(options.name, options.version);
  const where = `defineWorkflow("${options.name}")`;
  checkKnownOptions(options, "workflow", where);
  checkIdempotency(options.idempotency as never, where);
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

export {
  type AnyWorkflow,
  isWorkflow,
  type Trigger,
  type Workflow,
  type WorkflowFunction,
  type WorkflowOptions,
} from "../core/workflow.ts";
