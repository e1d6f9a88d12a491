import { z } from "@hono/zod-openapi";
import {
  identifier,
  lookupIdentifier,
  parseTimestamp,
  RunStatus,
  refuseUnsafeText,
} from "./schemas.ts";

/** Wire schemas of the web UI's endpoints (logs, bulk actions, reruns, events, workers). */

const isoTime = z.string().openapi({ format: "date-time" });

const timestamp = z
  .string()
  .max(40)
  .refine((s) => parseTimestamp(s) !== undefined, {
    message: "must be an ISO 8601 date-time or milliseconds since the epoch",
  })
  .openapi({ example: "2030-01-01T00:00:00Z" });

/** `key:value`; a query may repeat it (every tag must match). */
export const tagFilter = z
  .string()
  .max(600)
  .regex(/^[^:]+:.*$/, "tag must be key:value")
  .openapi({ example: "customer:c1" });

export const RunSelection = z
  .strictObject({
    workflow: identifier("workflow name").optional(),
    status: RunStatus.optional(),
    from: timestamp.optional().openapi({ description: "Created at or after (inclusive)" }),
    to: timestamp.optional().openapi({ description: "Created before (exclusive)" }),
    tag: z.union([tagFilter, z.array(tagFilter).max(20)]).optional(),
    idPrefix: z.string().min(1).max(256).superRefine(refuseUnsafeText("idPrefix")).optional(),
  })
  .openapi("RunSelection");

export const BulkBody = z
  .strictObject({
    action: z.enum(["cancel", "retry"]),
    filter: RunSelection.optional(),
    ids: z.array(lookupIdentifier("run id")).max(10_000).optional(),
    dryRun: z.boolean().optional(),
  })
  .refine((b) => (b.filter === undefined) !== (b.ids === undefined), {
    message: "exactly one of filter and ids is required",
  })
  .openapi("BulkAction");

export const BulkResult = z
  .object({
    matched: z.number().int(),
    affected: z.number().int(),
    ids: z.array(z.string()).openapi({ description: "At most 1000 listed" }),
  })
  .openapi("BulkResult");

export const RerunBody = z
  .strictObject({
    fromStep: z.string().min(1).max(300).superRefine(refuseUnsafeText("fromStep")),
    input: z.unknown().optional(),
    inputMeta: z.record(z.string(), z.unknown()).optional(),
    id: identifier("run id").optional(),
  })
  .openapi("Rerun");

export const LogLine = z
  .object({
    seq: z.number().int(),
    stepKey: z.string().nullable(),
    attempt: z.number().int().nullable(),
    level: z.enum(["debug", "info", "warn", "error"]),
    message: z.string(),
    fields: z.record(z.string(), z.unknown()).optional(),
    at: isoTime,
    truncated: z.boolean().optional(),
  })
  .openapi("LogLine");

export const LogPage = z
  .object({
    logs: z.array(LogLine),
    nextSeq: z.number().int().openapi({ description: "Pass as `afterSeq` for the next lines" }),
  })
  .openapi("LogPage");

export const LogQuery = z.object({
  step: z.string().min(1).max(300).superRefine(refuseUnsafeText("step")).optional(),
  afterSeq: z.coerce.number().int().min(0).optional().openapi({ type: "integer" }),
  limit: z.coerce.number().int().min(1).max(5000).optional().openapi({ type: "integer" }),
});

export const EventQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).optional().openapi({ type: "integer" }),
  cursor: z.string().max(1024).optional(),
  name: identifier("event name").optional(),
});

export const EventPage = z
  .object({
    events: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        data: z.unknown().optional(),
        dataMeta: z.record(z.string(), z.unknown()).optional(),
        receivedAt: isoTime,
        started: z.array(z.string()),
        woke: z.array(z.string()),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .openapi("EventPage");

export const WorkerList = z
  .object({
    workers: z.array(
      z.object({
        id: z.string(),
        host: z.string(),
        pid: z.number().int(),
        queues: z.array(z.string()),
        workflows: z.array(z.string()),
        concurrency: z.number().int(),
        startedAt: isoTime,
        lastSeenAt: isoTime,
        runs: z.array(z.string()),
      }),
    ),
  })
  .openapi("WorkerList");
