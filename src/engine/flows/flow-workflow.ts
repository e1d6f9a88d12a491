import type { StandardSchemaV1 } from "@standard-schema/spec";
import { toMs } from "../../core/duration.ts";
import { plainInputPath } from "../../core/flow/flow-expressions.ts";
import { compileInputSchema } from "../../core/flow/input-validator.ts";
import type { Trigger, Workflow, WorkflowOptions } from "../../core/workflow.ts";
import type { CompiledFlow } from "./compiled-flow.ts";

/** The workflow options a flow document declares (§2a), computed for its latest version. */
export function flowOptions(flow: CompiledFlow): WorkflowOptions<unknown> {
  const doc = flow.document;
  const keyFn = (text: string | undefined) => {
    const path = text === undefined ? undefined : plainInputPath(text);
    if (!path) return undefined;
    return (input: unknown) => {
      let value: unknown = input;
      for (const part of path) value = (value as Record<string, unknown> | null)?.[part];
      return typeof value === "number" ? value : String(value ?? "");
    };
  };
  const options: WorkflowOptions<unknown> = { name: doc.name };
  if (doc.input) options.input = inputSchema(doc.input);
  if (doc.retry) options.retry = doc.retry as WorkflowOptions<unknown>["retry"];
  if (doc.timeout !== undefined) options.timeout = doc.timeout as never;
  if (doc.queue) options.queue = doc.queue;
  if (doc.triggers) {
    options.triggers = doc.triggers.map(
      (t): Trigger =>
        "event" in t
          ? { event: t.event, ...(t.if ? { if: t.if.replace(/^=/, "") } : {}) }
          : { ...t, cron: t.cron },
    );
  }
  if (doc.concurrency) {
    options.concurrency = { limit: doc.concurrency.limit, key: keyFn(doc.concurrency.key) };
  }
  if (doc.rateLimit) {
    options.rateLimit = {
      limit: doc.rateLimit.limit,
      period: doc.rateLimit.period as never,
      key: keyFn(doc.rateLimit.key),
    };
  }
  if (doc.debounce) {
    options.debounce = { period: doc.debounce.period as never, key: keyFn(doc.debounce.key) };
  }
  const idempotencyKey = keyFn(doc.idempotency?.key);
  if (doc.idempotency && idempotencyKey) {
    options.idempotency = { key: idempotencyKey, ttl: doc.idempotency.ttl as never };
  }
  if (typeof doc.priority === "number") options.priority = doc.priority;
  else if (typeof doc.priority === "string") {
    const key = keyFn(doc.priority);
    if (key) options.priority = (input) => Number(key(input)) || 0;
  }
  return options;
}

function inputSchema(schema: Record<string, unknown>): StandardSchemaV1<unknown, unknown> {
  const check = compileInputSchema(schema);
  return {
    "~standard": {
      version: 1,
      vendor: "cairn-flow",
      validate: (value) => {
        const result = check(value);
        return result.ok
          ? { value: result.value }
          : { issues: result.errors.map((message) => ({ message })) };
      },
    },
  };
}

/**
 * The workflow standing for a flow: one object per flow name whose options follow the
 * latest deployed version, and whose function runs the version the run started with.
 */
export function flowWorkflow(
  name: string,
  latest: () => CompiledFlow,
  run: Workflow<unknown, unknown>["fn"],
): Workflow<unknown, unknown> {
  let cached: { hash: string; options: WorkflowOptions<unknown> } | undefined;
  const options = () => {
    const flow = latest();
    if (cached?.hash !== flow.hash) cached = { hash: flow.hash, options: flowOptions(flow) };
    return cached.options;
  };
  return {
    name,
    kind: "cairn.workflow",
    get options() {
      return options();
    },
    get timeoutMs() {
      const timeout = latest().document.timeout;
      return timeout === undefined ? undefined : toMs(timeout as never, `timeout of "${name}"`);
    },
    fn: run,
  };
}
