import jsonata from "jsonata";
import { toMs } from "../core/duration.ts";
import { checkName } from "../core/names.ts";
import type { WorkflowOptions } from "../core/workflow.ts";
import { validateCron } from "./cron.ts";

/** Checks triggers and flow-control options at definition, naming the bad field. */
export function validateFlowControl<T>(options: WorkflowOptions<T>): void {
  const where = `defineWorkflow("${options.name}")`;
  const positiveInt = (value: unknown, field: string) => {
    if (!Number.isInteger(value) || (value as number) < 1) {
      throw new TypeError(`${where}: ${field} must be a positive integer, got ${String(value)}.`);
    }
  };
  if (options.concurrency) positiveInt(options.concurrency.limit, "concurrency.limit");
  if (options.maxCrashes !== undefined) positiveInt(options.maxCrashes, "maxCrashes");
  if (options.rateLimit) {
    positiveInt(options.rateLimit.limit, "rateLimit.limit");
    if (toMs(options.rateLimit.period, `${where}: rateLimit.period`) <= 0) {
      throw new TypeError(`${where}: rateLimit.period must be longer than 0.`);
    }
  }
  if (options.debounce) toMs(options.debounce.period, `${where}: debounce.period`);
  if (options.queue !== undefined && (typeof options.queue !== "string" || options.queue === "")) {
    throw new TypeError(`${where}: queue must be a non-empty string.`);
  }
  if (options.queue !== undefined) checkName(`${where}: queue`, options.queue);
  for (const [i, trigger] of (options.triggers ?? []).entries()) {
    const at = `${where}: triggers[${i}]`;
    if ("event" in trigger) {
      if (typeof trigger.event !== "string" || trigger.event === "") {
        throw new TypeError(`${at}.event must be a non-empty event name.`);
      }
      checkName(`${at}.event`, trigger.event);
      if (trigger.if !== undefined) compileCondition(trigger.if, `${at}.if`);
    } else if ("cron" in trigger) {
      validateCron(trigger.cron, trigger.tz ?? "UTC", at);
      if (trigger.overlap && !["skip", "queue", "allow"].includes(trigger.overlap)) {
        throw new TypeError(`${at}.overlap must be "skip", "queue" or "allow".`);
      }
      if (trigger.catchup && !["none", "latest", "all"].includes(trigger.catchup)) {
        throw new TypeError(`${at}.catchup must be "none", "latest" or "all".`);
      }
    } else {
      throw new TypeError(`${at} must have an \`event\` or a \`cron\`.`);
    }
  }
}

// Bounded, oldest first out: conditions come from code and deployed flows, but nothing
// here should grow with what clients send.
const compiled = new Map<string, jsonata.Expression>();
const maxCompiled = 1_000;

/** A jsonata condition, compiled once; a syntax error names where it is. */
export function compileCondition(expression: string, where: string): jsonata.Expression {
  const cached = compiled.get(expression);
  if (cached) return cached;
  try {
    const result = jsonata(expression);
    if (compiled.size >= maxCompiled) compiled.delete(compiled.keys().next().value as string);
    compiled.set(expression, result);
    return result;
  } catch (error) {
    const detail = error as { message?: string; position?: number };
    throw new TypeError(
      `${where}: invalid condition "${expression}": ${detail.message ?? String(error)}` +
        (detail.position !== undefined ? ` (at character ${detail.position})` : ""),
    );
  }
}
