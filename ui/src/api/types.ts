/**
 * The public API's JSON as the UI reads it (`/api/v1`, see /api/openapi.json). Fields the
 * UI can live without are optional, so an older server still renders.
 */
import type { EntryKind, RunStatus } from "../../../src/core/types.ts";
import { terminalStatuses as engineTerminalStatuses } from "../../../src/core/types.ts";

export type { RunStatus } from "../../../src/core/types.ts";

export const runStatuses: readonly RunStatus[] = [
  "queued",
  "running",
  "waiting",
  "completed",
  "failed",
  "cancelled",
];

export const terminalStatuses: ReadonlySet<string> = new Set(engineTerminalStatuses);

export interface WireError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export interface RunSummary {
  id: string;
  workflow: string;
  status: RunStatus;
  parentId: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  error: WireError | null;
  tags?: Record<string, string> | string[];
  version?: string | number | null;
}

export interface Attempt {
  attempt: number;
  startedAt: string | null;
  endedAt: string | null;
  error?: WireError | null;
}

/** The journal's kinds (and `child`, how the API names an invoke's run), open to newer ones. */
export type StepKind = EntryKind | "child" | (string & {});

export interface Step {
  position: number;
  key: string;
  kind: StepKind;
  status: string;
  attempt: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  wakeAt: string | null;
  input?: unknown;
  output?: unknown;
  error: WireError | null;
  childRunId?: string;
  attempts?: Attempt[];
  /** A wait's reason: `{ event, match, timeoutAt }`, `{ signal }`, `{ childRunId }`, `{ until }`. */
  waitFor?: {
    event?: string;
    match?: unknown;
    timeoutAt?: string;
    signal?: string;
    childRunId?: string;
    until?: string;
    /** A waitForAny's alternatives. */
    events?: { event: string; match?: unknown }[];
    signals?: string[];
  };
  /** Like `status`, plus `timedOut` waits and `cancelled` leftovers. */
  state?: string;
}

export interface Run extends Omit<RunSummary, "updatedAt"> {
  /** The run this one continues (`ctx.continueAsNew` there started it). */
  continuedFrom?: string | null;
  /** The run that continues this one (it ended with `ctx.continueAsNew`). */
  continuedTo?: string | null;
  input?: unknown;
  output?: unknown;
  steps: Step[];
  children?: string[];
  updatedAt?: string;
}

export interface RunPage {
  runs: RunSummary[];
  nextCursor: string | null;
}

export interface Workflow {
  name: string;
  local: boolean;
  hasInputSchema: boolean | null;
  timeoutMs: number | null;
  inputSchema?: JsonSchema | null;
  options?: Record<string, unknown> | null;
  triggers?: unknown[] | null;
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  title?: string;
  description?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
}

export interface Schedule {
  id: string;
  workflow: string;
  cron: string;
  tz: string;
  input?: unknown;
  overlap: string;
  catchup: string;
  paused: boolean;
  nextAt: string;
  source: string;
  createdAt: string;
  updatedAt: string;
  nextFires?: string[];
}

export interface EventRecord {
  id: string;
  name: string;
  data?: unknown;
  receivedAt: string;
  started: string[];
  woke: string[];
}

export interface WorkerRecord {
  id: string;
  host: string;
  pid: number;
  queues: string[];
  workflows: string[];
  concurrency: number;
  startedAt: string;
  lastSeenAt: string;
  runs: string[];
}

export interface LogEntry {
  seq: number;
  stepKey: string | null;
  attempt: number | null;
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields?: Record<string, unknown>;
  at: string;
  truncated?: boolean;
}

export interface BulkResult {
  matched: number;
  affected: number;
  ids: string[];
}

export interface RunFilter {
  workflow?: string;
  status?: string;
  from?: string;
  to?: string;
  tag?: string;
  /** `input.customer.id:c-17`: a value in the run's input or output (a bounded scan). */
  where?: string;
  idPrefix?: string;
}
