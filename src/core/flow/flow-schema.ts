import { z } from "zod";

/**
 * The flow document as one zod definition: the engine parses with it and
 * `GET /api/v1/flows/schema` publishes `z.toJSONSchema` of it, so the two cannot drift.
 * Semantic rules a schema cannot say (DAG edges, cycles, expressions) live in validate-flow.ts.
 */

export const scriptLanguages = ["python", "bash", "typescript", "javascript"] as const;
export type ScriptLanguage = (typeof scriptLanguages)[number];

/** `"30s"`, `"10m"`, `"1d"` or milliseconds. */
const duration = z
  .union([z.string(), z.number().nonnegative()])
  .describe('A duration: milliseconds or "500ms", "30s", "10m", "1h", "7d".');

/** Any JSON value; strings starting with `=` are JSONata expressions. */
const value = z
  .unknown()
  .describe(
    "A JSON value; strings starting with '=' are JSONata over { input, steps, item, index, error, run }.",
  );

const expression = z.string().describe("A JSONata expression: a string starting with '='.");

const retry = z.strictObject({
  maxAttempts: z.number().int().min(1).optional(),
  backoff: z.enum(["exponential", "fixed"]).optional(),
  initialInterval: duration.optional(),
  maxInterval: duration.optional(),
});

const script = z.strictObject({
  lang: z.enum(scriptLanguages, {
    error: (issue) =>
      `unknown language ${JSON.stringify(issue.input)} (expected ${scriptLanguages.join(", ")})`,
  }),
  source: z.string().optional().describe("The script's text."),
  file: z.string().optional().describe("A script file, relative to the flow file."),
  env: z.record(z.string(), z.string()).optional().describe("Extra environment variables."),
  secrets: z
    .array(z.string())
    .optional()
    .describe("Names of the worker's environment variables passed to the script."),
  requirements: z
    .array(z.string())
    .optional()
    .describe("Python packages the script needs (installed only when the worker allows it)."),
});

const http = z.strictObject({
  method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]).optional(),
  url: z.string(),
  headers: z.record(z.string(), z.string()).optional(),
  query: z.record(z.string(), value).optional(),
  body: value.optional(),
  /** Response bodies larger than this fail the attempt. */
  maxResponseBytes: z.number().int().positive().optional(),
  /** Treat non-2xx answers as output instead of a failure. */
  allowErrorStatus: z.boolean().optional(),
});

const eventWait = z.strictObject({
  event: z.string().min(1),
  match: z.record(z.string(), value).optional(),
  timeout: duration.optional(),
});

const approval = z.strictObject({
  event: z.string().min(1).optional(),
  match: z.record(z.string(), value).optional(),
  timeout: duration.optional(),
});

export interface FlowStep {
  id: string;
  name?: string;
  needs?: string[];
  if?: string | boolean;
  with?: Record<string, unknown>;
  retry?: z.infer<typeof retry>;
  timeout?: string | number;
  script?: z.infer<typeof script>;
  action?: string;
  http?: z.infer<typeof http>;
  workflow?: string;
  sleep?: string | number;
  approval?: z.infer<typeof approval>;
  waitForEvent?: z.infer<typeof eventWait>;
  branch?: { if?: string | boolean; else?: true; steps: FlowStep[] }[];
  forEach?: { items: unknown; parallelism?: number; steps: FlowStep[] };
}

export const stepKinds = [
  "script",
  "action",
  "http",
  "workflow",
  "sleep",
  "approval",
  "waitForEvent",
  "branch",
  "forEach",
] as const;
export type StepKind = (typeof stepKinds)[number];

export const flowStepSchema: z.ZodType<FlowStep> = z.lazy(() =>
  z
    .strictObject({
      id: z
        .string()
        .regex(/^[a-z0-9_-]+$/, "a step id is lowercase letters, digits, '_' and '-'")
        .max(64),
      name: z.string().optional(),
      needs: z.array(z.string()).optional().describe("Steps that must finish first."),
      if: z.union([expression, z.boolean()]).optional(),
      with: z.record(z.string(), value).optional(),
      retry: retry.optional(),
      timeout: duration.optional(),
      script: script.optional(),
      action: z
        .string()
        .min(1)
        .optional()
        .describe("A TypeScript function registered in a worker."),
      http: http.optional(),
      workflow: z
        .string()
        .min(1)
        .optional()
        .describe("Starts this workflow or flow as a child run."),
      sleep: duration.optional(),
      approval: approval.optional(),
      waitForEvent: eventWait.optional(),
      branch: z
        .array(
          z.strictObject({
            if: z.union([expression, z.boolean()]).optional(),
            else: z.literal(true).optional(),
            steps: z.array(flowStepSchema).min(1),
          }),
        )
        .min(1)
        .optional(),
      forEach: z
        .strictObject({
          items: value,
          parallelism: z.number().int().min(1).max(1000).optional(),
          steps: z.array(flowStepSchema).min(1),
        })
        .optional(),
    })
    .meta({ id: "FlowStep" }),
);

const keyed = { key: expression.optional() };

const trigger = z.union([
  z.strictObject({ event: z.string().min(1), if: z.string().optional() }),
  z.strictObject({
    cron: z.string().min(1),
    tz: z.string().optional(),
    overlap: z.enum(["skip", "queue", "allow"]).optional(),
    catchup: z.enum(["none", "latest", "all"]).optional(),
    input: value.optional(),
  }),
]);

export const flowDocumentSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "a flow name is letters, digits, '.', '_' and '-'")
      .max(128),
    description: z.string().optional(),
    input: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("JSON Schema of the flow's input, validated at start."),
    triggers: z.array(trigger).optional(),
    concurrency: z.strictObject({ limit: z.number().int().min(1), ...keyed }).optional(),
    rateLimit: z
      .strictObject({ limit: z.number().int().min(1), period: duration, ...keyed })
      .optional(),
    debounce: z.strictObject({ period: duration, ...keyed }).optional(),
    idempotency: z.strictObject({ key: expression, ttl: duration }).optional(),
    priority: z.union([z.number().int(), expression]).optional(),
    queue: z.string().min(1).optional(),
    retry: retry.optional(),
    timeout: duration.optional(),
    steps: z.array(flowStepSchema).min(1),
    output: value.optional(),
    onFailure: z
      .strictObject({ workflow: z.string().min(1), with: z.record(z.string(), value).optional() })
      .optional(),
  })
  .meta({ id: "FlowDocument", title: "Cairn flow" });

export type FlowDocument = z.infer<typeof flowDocumentSchema>;

/** The published JSON Schema of a flow document. */
export function flowJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(flowDocumentSchema, { unrepresentable: "any", io: "input" }) as Record<
    string,
    unknown
  >;
}
