import type { z } from "@hono/zod-openapi";
import superjson from "superjson";
import type { RunInfo, StepInfo } from "../core/run-info.ts";
import type { SerializedError } from "../core/serializer.ts";
import type { RunRecord } from "../store/store.ts";
import { HttpProblem } from "./problems.ts";
import type { Run, RunError, RunSummary, Step } from "./schemas.ts";

/** Conversions between engine values and the API's JSON (see `schemas.ts`). */

const iso = (date: Date | null) => (date === null ? null : date.toISOString());
const isoMs = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * A value as JSON plus superjson metadata for what JSON cannot hold. `json` is undefined for
 * `undefined`, and `meta` absent when plain JSON says it all.
 */
function payload(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined) return {};
  const { json, meta } = superjson.serialize(value);
  return meta ? { [field]: json, [`${field}Meta`]: meta } : { [field]: json };
}

export const payloadWire = payload;

/**
 * The value a client sent: its JSON, restored with its superjson metadata if any.
 * @throws HttpProblem `invalid_meta` when the metadata does not fit the value.
 */
export function fromWire(
  json: unknown,
  meta: Record<string, unknown> | undefined,
  what: string,
): unknown {
  if (meta === undefined) return json;
  try {
    return superjson.deserialize({ json: json as never, meta: meta as never });
  } catch (error) {
    const reason = error instanceof Error ? error.message.slice(0, 200) : "unreadable";
    throw new HttpProblem(
      "invalid_meta",
      `The metadata of ${what} does not fit its value: ${reason}.`,
    );
  }
}

function errorWire(error: SerializedError | null): z.infer<typeof RunError> | null {
  if (error === null) return null;
  return {
    name: String(error.name),
    message: String(error.message),
    ...(typeof error.code === "string" ? { code: error.code } : {}),
    ...(typeof error.stack === "string" ? { stack: error.stack } : {}),
  };
}

function parseErrorText(text: string | null): SerializedError | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as SerializedError;
  } catch {
    return { name: "Error", message: text.slice(0, 1000) };
  }
}

export function toStepWire(step: StepInfo): z.infer<typeof Step> {
  return {
    position: step.position,
    key: step.key,
    kind: step.kind,
    status: step.status,
    attempt: step.attempt,
    startedAt: iso(step.startedAt),
    finishedAt: iso(step.finishedAt),
    durationMs: step.durationMs,
    wakeAt: iso(step.wakeAt),
    ...payload(step.output, "output"),
    error: errorWire(step.error),
    ...(step.childRunId === undefined ? {} : { childRunId: step.childRunId }),
  };
}

export function toRunWire(info: RunInfo): z.infer<typeof Run> {
  return {
    id: info.id,
    workflow: info.workflow,
    workflowVersion: info.workflowVersion,
    status: info.status,
    parentId: info.parentId,
    continuedFrom: info.continuedFrom,
    continuedTo: info.continuedTo,
    createdAt: info.createdAt.toISOString(),
    startedAt: iso(info.startedAt),
    finishedAt: iso(info.finishedAt),
    ...payload(info.input, "input"),
    ...payload(info.output, "output"),
    error: errorWire(info.error),
    steps: info.steps.map(toStepWire),
  };
}

/** A list row: no payloads and no steps, so a page of runs stays small. */
export function toRunSummary(run: RunRecord): z.infer<typeof RunSummary> {
  return {
    id: run.id,
    workflow: run.workflow,
    status: run.status,
    parentId: run.parentId,
    createdAt: new Date(run.createdAt).toISOString(),
    startedAt: isoMs(run.startedAt),
    finishedAt: isoMs(run.finishedAt),
    updatedAt: new Date(run.updatedAt).toISOString(),
    error: errorWire(parseErrorText(run.error)),
  };
}
