import { z } from "@hono/zod-openapi";
import { maxNameLength, textProblem } from "../core/names.ts";

/**
 * The wire format of the HTTP API, as zod schemas: they validate requests, describe
 * responses, and generate `/api/openapi.json`. Times are ISO 8601 strings. Payloads
 * (inputs, outputs, event data) are plain JSON; values JSON cannot hold (Date, BigInt, Map,
 * Set, undefined) travel as superjson's JSON form plus an optional `…Meta` object, which
 * the remote client uses to restore them exactly.
 */

/**
 * A 1–256 character id or name without control characters or unpaired surrogates: the
 * rule of core/names.ts, which the engine applies to the same names given in code.
 */
export function identifier(what: string) {
  return z
    .string()
    .min(1, `${what} must not be empty`)
    .max(maxNameLength, `${what} must be at most ${maxNameLength} characters`)
    .superRefine(refuseUnsafeText(what));
}

/**
 * A run id to look up, not to create: longer than 256 characters too (a child run's id is
 * `parent/step`), without anything no store can hold.
 */
export function lookupIdentifier(what: string) {
  return z
    .string()
    .min(1, `${what} must not be empty`)
    .max(2048, `${what} must be at most 2048 characters`)
    .superRefine(refuseUnsafeText(what));
}

/** A zod refinement refusing text no store can hold (a control character, a lone surrogate). */
export function refuseUnsafeText(what: string) {
  return (text: string, ctx: z.RefinementCtx) => {
    const problem = textProblem(text);
    if (problem)
      ctx.addIssue({ code: "custom", message: `${what} ${JSON.stringify(text)} ${problem}` });
  };
}

/** Parses `2030-01-01T00:00:00Z` or a count of ms since the epoch; undefined when neither. */
export function parseTimestamp(text: string): number | undefined {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

const timestamp = z
  .string()
  .max(40)
  .refine((s) => parseTimestamp(s) !== undefined, {
    message: "must be an ISO 8601 date-time or milliseconds since the epoch",
  })
  .openapi({ example: "2030-01-01T00:00:00Z" });

/** Checked by the engine's parser, whose 400 says what is wrong in the path or value. */
const whereText = z.string().min(1).max(1024);

const tagText = z
  .string()
  .max(600)
  .regex(/^[^:]+:.*$/, "tag must be key:value")
  .superRefine(refuseUnsafeText("tag"));

export const RunStatus = z
  .enum(["queued", "running", "waiting", "completed", "failed", "cancelled"])
  .openapi("RunStatus");

const isoTime = z.string().openapi({ format: "date-time" });
const Meta = z
  .record(z.string(), z.unknown())
  .openapi({ description: "superjson metadata restoring Date, BigInt, Map, Set, undefined" });

export const RunError = z
  .object({
    name: z.string(),
    message: z.string(),
    code: z.string().optional(),
    stack: z.string().optional(),
  })
  .openapi("RunError");

export const RunSummary = z
  .object({
    id: z.string(),
    workflow: z.string(),
    status: RunStatus,
    parentId: z.string().nullable(),
    createdAt: isoTime,
    startedAt: isoTime.nullable(),
    finishedAt: isoTime.nullable(),
    updatedAt: isoTime,
    error: RunError.nullable(),
  })
  .openapi("RunSummary");

export const Step = z
  .object({
    position: z.number().int(),
    key: z.string(),
    kind: z.enum([
      "step",
      "transaction",
      "sleep",
      "event",
      "signal",
      "invoke",
      "any",
      "now",
      "random",
      "uuid",
      "patch",
    ]),
    status: z.enum(["completed", "failed", "retrying", "waiting"]),
    attempt: z.number().int(),
    startedAt: isoTime.nullable(),
    finishedAt: isoTime.nullable(),
    durationMs: z.number().nullable(),
    wakeAt: isoTime.nullable(),
    output: z.unknown().optional(),
    outputMeta: Meta.optional(),
    error: RunError.nullable(),
    childRunId: z.string().optional(),
    /** The run page's view: like `status`, plus `timedOut` waits and `cancelled` leftovers. */
    state: z
      .enum(["completed", "failed", "retrying", "waiting", "timedOut", "cancelled"])
      .optional(),
    /** A wait's reason: `{ event, match, timeoutAt }`, `{ signal }`, `{ childRunId }`, `{ until }`. */
    waitFor: z.record(z.string(), z.unknown()).optional(),
    attempts: z
      .array(
        z.object({
          attempt: z.number().int(),
          startedAt: isoTime.nullable(),
          endedAt: isoTime.nullable(),
          error: z.object({ name: z.string(), message: z.string() }).optional(),
        }),
      )
      .optional(),
  })
  .openapi("Step");

export const Run = z
  .object({
    id: z.string(),
    workflow: z.string(),
    /** The version of the workflow's code the run started with. */
    workflowVersion: z.number().int().optional(),
    status: RunStatus,
    parentId: z.string().nullable(),
    continuedFrom: z.string().nullable().openapi({
      description: "The run this one continues (`ctx.continueAsNew` there started this run).",
    }),
    continuedTo: z.string().nullable().openapi({
      description:
        "The run that continues this one: it completed with `ctx.continueAsNew`, its result is the last run's of the chain.",
    }),
    createdAt: isoTime,
    startedAt: isoTime.nullable(),
    finishedAt: isoTime.nullable(),
    input: z.unknown().optional(),
    inputMeta: Meta.optional(),
    output: z.unknown().optional(),
    outputMeta: Meta.optional(),
    error: RunError.nullable(),
    steps: z.array(Step),
    children: z.array(z.string()).optional(),
    tags: z.record(z.string(), z.string()).optional(),
    version: z.string().nullable().optional(),
    rerunOf: z.string().nullable().optional(),
  })
  .openapi("Run");

/** The answer to a start: the run, and whether this start created it or found it by id. */
export const StartedRun = Run.extend({
  created: z.boolean().openapi({ description: "False when a run with this id already existed" }),
  inputMatches: z.boolean().openapi({
    description:
      "False when the existing run has a different input (object keys in any order count as the same); this start's input was not used",
  }),
}).openapi("StartedRun");

export const RunPage = z
  .object({ runs: z.array(RunSummary), nextCursor: z.string().nullable() })
  .openapi("RunPage");

export const StepList = z.object({ runId: z.string(), steps: z.array(Step) }).openapi("StepList");

export const StartRunBody = z
  .strictObject({
    workflow: identifier("workflow name").openapi({ example: "process-order" }),
    input: z.unknown().optional(),
    inputMeta: Meta.optional(),
    id: identifier("run id")
      .optional()
      .openapi({ description: "Idempotency: a taken id returns that run" }),
    tags: z
      .record(z.string(), z.string())
      .optional()
      .openapi({ description: "Searchable labels: `GET /api/v1/runs?tag=key:value`" }),
    idempotency: z
      .strictObject({
        key: z.string().min(1).max(256),
        ttl: z.union([z.string().min(1).max(64), z.number()]),
      })
      .optional()
      .openapi({
        description:
          "A start whose key matches a run of this workflow created less than `ttl` ago (e.g. `24h`) returns that run (200, `created: false`); over the workflow's own `idempotency`",
      }),
  })
  .openapi("StartRun");

export const ListRunsQuery = z.object({
  workflow: identifier("workflow name").optional(),
  from: timestamp.optional().openapi({ description: "Created at or after (inclusive)" }),
  to: timestamp.optional().openapi({ description: "Created before (exclusive)" }),
  tag: z
    .union([tagText, z.array(tagText).max(20)])
    .optional()
    .openapi({ description: "`key:value`, repeatable: runs carrying every tag" }),
  where: z
    .union([whereText, z.array(whereText).max(8)])
    .optional()
    .openapi({
      description:
        "`input.path.to.field:value` or `output.…:value`, repeatable: runs whose input/output JSON holds the value there. Not indexed: each page examines at most 10,000 runs picked by the other filters, so a page may hold fewer than `limit` runs while `nextCursor` is not null",
    }),
  idPrefix: z.string().min(1).max(256).superRefine(refuseUnsafeText("idPrefix")).optional(),
  status: RunStatus.optional(),
  createdAfter: timestamp.optional(),
  createdBefore: timestamp.optional(),
  cursor: z
    .string()
    .max(1024)
    .optional()
    .openapi({ description: "`nextCursor` of the previous page" }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(200)
    .optional()
    .openapi({ type: "integer", example: 50 }),
});

export const RunResultQuery = z.object({
  waitMs: z.coerce.number().int().min(0).max(60_000).optional().openapi({
    type: "integer",
    example: 30_000,
    description: "How long to wait for the end, in ms (default 30,000, at most 60,000)",
  }),
});

/** A run's result, or where it stands when the wait ended first. */
export const RunResult = z
  .object({
    runId: z.string().openapi({
      description:
        "The run the result is of: the last of the chain for a run that continued as new",
    }),
    status: RunStatus,
    output: z.unknown().optional(),
    outputMeta: Meta.optional(),
    error: RunError.nullable(),
  })
  .openapi("RunResult");

export const RunIdParam = z.object({
  id: lookupIdentifier("run id").openapi({
    param: { name: "id", in: "path" },
    example: "order-o1",
  }),
});

export const SignalParams = RunIdParam.extend({
  name: identifier("signal name").openapi({
    param: { name: "name", in: "path" },
    example: "pause",
  }),
});

export const SendEventBody = z
  .strictObject({
    name: identifier("event name").openapi({ example: "order.approved" }),
    data: z.unknown().optional(),
    dataMeta: Meta.optional(),
    id: identifier("event id")
      .optional()
      .openapi({ description: "Dedupes: a repeated id is a no-op" }),
  })
  .openapi("SendEvent");

export const EventAccepted = z
  .object({
    id: z.string(),
    duplicate: z.boolean(),
    started: z
      .array(z.string())
      .optional()
      .openapi({ description: "Runs the event's triggers started" }),
    woke: z.array(z.string()).optional().openapi({ description: "Waiting runs the event resumed" }),
  })
  .openapi("EventAccepted");

export const SignalBody = z
  .strictObject({ payload: z.unknown().optional(), payloadMeta: Meta.optional() })
  .openapi("SendSignal");

export const SignalAccepted = z
  .object({ runId: z.string(), name: z.string() })
  .openapi("SignalAccepted");

export const WorkflowList = z
  .object({
    workflows: z.array(
      z.object({
        name: z.string(),
        /** False for workflows only other processes run: startable here, executed there. */
        local: z.boolean(),
        hasInputSchema: z.boolean().nullable(),
        timeoutMs: z.number().nullable(),
        /** JSON Schema of a zod input schema; null for other schemas or none. */
        inputSchema: z.unknown().nullable(),
        options: z.record(z.string(), z.unknown()).nullable(),
        triggers: z.array(z.record(z.string(), z.unknown())),
      }),
    ),
  })
  .openapi("WorkflowList");

export const ReplayReport = z
  .object({
    runId: z.string(),
    workflow: z.string(),
    result: z.enum(["consistent", "diverged"]),
    replayedPositions: z.number().int(),
    next: z.object({ position: z.number().int(), kind: z.string(), key: z.string() }).optional(),
    finished: z.enum(["completed", "failed"]).optional(),
    divergence: z
      .object({
        position: z.number().int(),
        expected: z.string(),
        found: z.string(),
        message: z.string(),
      })
      .optional(),
  })
  .openapi("ReplayReport");

export const StreamQuery = z.object({
  run: lookupIdentifier("run id").optional().openapi({ description: "Only this run's updates" }),
});

export const HookParams = z.object({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, "hook name must be 1-64 letters, digits, '.', '_' or '-'")
    .openapi({ param: { name: "name", in: "path" }, example: "github" }),
});

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
  })
  .openapi("Problem");

export const HealthStatus = z.object({ status: z.string() }).openapi("HealthStatus");
