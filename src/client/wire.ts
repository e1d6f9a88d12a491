import superjson from "superjson";
import type { RunInfo, StepInfo } from "../core/run-info.ts";
import type { SerializedError } from "../core/serializer.ts";
import type { EntryKind, EntryStatus, RunId, RunStatus } from "../core/types.ts";

/**
 * The server's JSON shapes (`src/server/schemas.ts` is their source of truth; a test checks
 * these interfaces against it) and their conversion back to the embedded API's types.
 */

type Meta = Record<string, unknown>;

export interface WireStep {
  position: number;
  key: string;
  kind: EntryKind;
  status: EntryStatus;
  attempt: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  wakeAt: string | null;
  output?: unknown;
  outputMeta?: Meta;
  error: SerializedError | null;
  childRunId?: string;
}

export interface WireRun {
  id: string;
  workflow: string;
  workflowVersion?: number;
  status: RunStatus;
  parentId: string | null;
  /** Absent from servers older than continue-as-new. */
  continuedFrom?: string | null;
  continuedTo?: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  input?: unknown;
  inputMeta?: Meta;
  output?: unknown;
  outputMeta?: Meta;
  error: SerializedError | null;
  steps: WireStep[];
}

/** `GET /api/v1/runs/{id}/result`: the run's result, or its status when the wait ended first. */
export interface WireRunResult {
  runId: string;
  status: RunStatus;
  output?: unknown;
  outputMeta?: Meta;
  error: SerializedError | null;
}

/** The answer to `POST /api/v1/runs`: the run, and what the start did. */
export interface WireStartedRun extends WireRun {
  created: boolean;
  inputMatches: boolean;
}

/** A row of `GET /api/v1/runs`. */
export interface RunSummary {
  id: string;
  workflow: string;
  status: RunStatus;
  parentId: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  error: SerializedError | null;
}

/** A page of runs; pass `nextCursor` back as `cursor` for the next one (null: last page). */
export interface RunPage {
  runs: RunSummary[];
  nextCursor: string | null;
}

const date = (text: string | null) => (text === null ? null : new Date(text));

/** A value sent by the server, restored exactly when it came with superjson metadata. */
export function fromPayload(json: unknown, meta: Meta | undefined): unknown {
  return meta === undefined
    ? json
    : superjson.deserialize({ json: json as never, meta: meta as never });
}

/** JSON plus metadata for values JSON cannot hold (Date, BigInt, Map, Set, undefined). */
export function toPayload(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined) return {};
  const { json, meta } = superjson.serialize(value);
  return meta ? { [field]: json, [`${field}Meta`]: meta } : { [field]: json };
}

function toStepInfo(step: WireStep): StepInfo {
  return {
    position: step.position,
    key: step.key,
    kind: step.kind,
    status: step.status,
    attempt: step.attempt,
    startedAt: date(step.startedAt),
    finishedAt: date(step.finishedAt),
    durationMs: step.durationMs,
    wakeAt: date(step.wakeAt),
    output: fromPayload(step.output, step.outputMeta),
    error: step.error,
    ...(step.childRunId === undefined ? {} : { childRunId: step.childRunId as RunId }),
  };
}

/** The server's run as the embedded `cairn.getRun` returns it: Dates and payloads restored. */
export function toRunInfo<O>(run: WireRun): RunInfo<O> {
  return {
    id: run.id as RunId,
    workflow: run.workflow,
    workflowVersion: run.workflowVersion ?? 1, // servers from before versions send none
    status: run.status,
    input: fromPayload(run.input, run.inputMeta),
    output: fromPayload(run.output, run.outputMeta) as O | undefined,
    error: run.error,
    parentId: run.parentId as RunId | null,
    continuedFrom: (run.continuedFrom ?? null) as RunId | null,
    continuedTo: (run.continuedTo ?? null) as RunId | null,
    createdAt: new Date(run.createdAt),
    startedAt: date(run.startedAt),
    finishedAt: date(run.finishedAt),
    steps: run.steps.map(toStepInfo),
  };
}
