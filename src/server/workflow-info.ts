import { toJSONSchema, type ZodType } from "zod";
import type { Workflow } from "../core/workflow.ts";

/** The JSON Schema of a workflow's input when it is a zod schema (the UI's start form). */
export function inputJsonSchema(workflow: Workflow<unknown, unknown>): unknown {
  const schema = workflow.options.input as
    | (ZodType & { "~standard"?: { vendor?: string } })
    | undefined;
  if (schema?.["~standard"]?.vendor !== "zod") return null;
  try {
    return toJSONSchema(schema, { unrepresentable: "any" });
  } catch {
    return null; // a schema JSON Schema cannot express (a transform, say): no form
  }
}

const duration = (value: unknown) =>
  typeof value === "number" || typeof value === "string" ? value : null;
const keyed = (key: unknown) => (typeof key === "function" ? "function of the input" : null);

/** A workflow's options as JSON: functions are named, not sent. */
export function workflowOptions(workflow: Workflow<unknown, unknown>) {
  const o = workflow.options;
  return {
    queue: o.queue ?? "default",
    priority: typeof o.priority === "function" ? "function of the input" : (o.priority ?? 0),
    concurrency: o.concurrency
      ? { limit: o.concurrency.limit, key: keyed(o.concurrency.key) }
      : null,
    rateLimit: o.rateLimit
      ? {
          limit: o.rateLimit.limit,
          period: duration(o.rateLimit.period),
          key: keyed(o.rateLimit.key),
        }
      : null,
    debounce: o.debounce
      ? { period: duration(o.debounce.period), key: keyed(o.debounce.key) }
      : null,
    retry: o.retry ?? null,
    timeout: duration(o.timeout),
  };
}

export function workflowTriggers(workflow: Workflow<unknown, unknown>) {
  return (workflow.options.triggers ?? []).map((t) =>
    "event" in t
      ? { event: t.event, if: t.if ?? null }
      : {
          cron: t.cron,
          tz: t.tz ?? "UTC",
          overlap: t.overlap ?? "skip",
          catchup: t.catchup ?? "latest",
        },
  );
}
