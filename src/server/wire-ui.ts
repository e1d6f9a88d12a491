import type { z } from "@hono/zod-openapi";
import { CairnError } from "../core/errors.ts";
import { parseSerializedError } from "../core/serializer.ts";
import type { RunId, RunStatus } from "../core/types.ts";
import { toRunInfo } from "../engine/to-run-info.ts";
import type { Cairn } from "../sdk/cairn.ts";
import type { JournalEntry } from "../store/store.ts";
import type { Run, Step } from "./schemas.ts";
import { toRunWire } from "./wire.ts";

/** `superjson.stringify(null)`: what a wait that timed out resolves to. */
const serializedNull = '{"json":null}';
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * How a journal position looks on the run page: a wait resolved to null at or after its
 * timeout `timedOut`, an unfinished position of a cancelled run `cancelled`.
 */
export type StepState = "completed" | "failed" | "retrying" | "waiting" | "timedOut" | "cancelled";

export function stepState(entry: JournalEntry, runStatus: RunStatus): StepState {
  if (entry.status === "waiting" || entry.status === "retrying") {
    return runStatus === "cancelled" ? "cancelled" : entry.status;
  }
  const isWait = entry.kind === "event" || entry.kind === "signal";
  if (
    isWait &&
    entry.status === "completed" &&
    entry.output === serializedNull &&
    entry.wakeAt !== null &&
    entry.finishedAt !== null &&
    entry.finishedAt >= entry.wakeAt
  ) {
    return "timedOut";
  }
  return entry.status;
}

/** What a waiting position waits for: an event, a signal, a child run or a time. */
export function waitFor(entry: JournalEntry): Record<string, unknown> | undefined {
  let detail: Record<string, unknown> = {};
  if (entry.detail) {
    try {
      detail = JSON.parse(entry.detail) as Record<string, unknown>;
    } catch {
      detail = {};
    }
  }
  switch (entry.kind) {
    case "sleep":
      return { until: iso(entry.wakeAt) };
    case "event":
      return {
        event: detail.event ?? null,
        match: detail.match ?? null,
        timeoutAt: iso(entry.wakeAt),
      };
    case "signal":
      return { signal: detail.signal ?? entry.key, timeoutAt: iso(entry.wakeAt) };
    case "invoke":
      return { childRunId: detail.childId ?? null };
    default:
      return entry.status === "retrying" ? { retryAt: iso(entry.wakeAt) } : undefined;
  }
}

/**
 * The journal keeps each position's latest attempt only: earlier attempts of a retried step
 * are known by number (and by their log lines), not by their timings.
 */
function attempts(entry: JournalEntry) {
  if (entry.kind !== "step" && entry.kind !== "transaction") return undefined;
  const error = entry.error === null ? undefined : parseSerializedError(entry.error);
  return [
    {
      attempt: entry.attempt,
      startedAt: iso(entry.startedAt),
      endedAt: iso(entry.finishedAt),
      ...(error ? { error: { name: String(error.name), message: String(error.message) } } : {}),
    },
  ];
}

export function enrichSteps(
  steps: z.infer<typeof Step>[],
  journal: readonly JournalEntry[],
  runStatus: RunStatus,
): z.infer<typeof Step>[] {
  const byPosition = new Map(journal.map((e) => [e.position, e]));
  return steps.map((step) => {
    const entry = byPosition.get(step.position);
    if (!entry) return step;
    const wait = waitFor(entry);
    const tries = attempts(entry);
    return {
      ...step,
      state: stepState(entry, runStatus),
      ...(wait ? { waitFor: wait } : {}),
      ...(tries ? { attempts: tries } : {}),
    };
  });
}

/**
 * A stored payload (superjson text: `{ json, meta? }`) in the wire's `field` / `fieldMeta`
 * form, without superjson's deserialize-then-serialize round trip: the stored form already
 * is the wire form. A root `undefined` is left out, as `payload` in wire.ts does.
 */
function storedPayload(text: string | null, field: string): Record<string, unknown> {
  if (text === null) return {};
  const { json, meta } = JSON.parse(text) as { json: unknown; meta?: { values?: unknown } };
  if (meta === undefined) return { [field]: json };
  const values = meta.values;
  if (Array.isArray(values) && values.length === 1 && values[0] === "undefined") return {};
  return { [field]: json, [`${field}Meta`]: meta };
}

function errorOf(text: string | null) {
  if (text === null) return null;
  const e = parseSerializedError(text);
  return {
    name: String(e.name),
    message: String(e.message),
    ...(typeof e.code === "string" ? { code: e.code } : {}),
    ...(typeof e.stack === "string" ? { stack: e.stack } : {}),
  };
}

/** A journal entry as a wire step, built straight from the stored row (a 5,000-step run). */
function stepFromEntry(e: JournalEntry): z.infer<typeof Step> {
  return {
    position: e.position,
    key: e.key,
    kind: e.kind,
    status: e.status,
    attempt: e.attempt,
    startedAt: iso(e.startedAt),
    finishedAt: iso(e.finishedAt),
    durationMs: e.startedAt !== null && e.finishedAt !== null ? e.finishedAt - e.startedAt : null,
    wakeAt: iso(e.wakeAt),
    ...storedPayload(e.output, "output"),
    error: errorOf(e.error),
    ...(e.kind === "invoke" && e.detail
      ? { childRunId: (JSON.parse(e.detail) as { childId: string }).childId }
      : {}),
  };
}

/** A run with what its page shows: steps with states and waits, children, tags, origin. */
export async function toRunDetail(cairn: Cairn, id: string): Promise<z.infer<typeof Run>> {
  const run = await cairn.store.getRun(id as RunId);
  if (!run) throw new CairnError("RUN_NOT_FOUND", `No run with id "${id}".`);
  const [journal, children, tags] = await Promise.all([
    cairn.store.getJournal(run.id),
    cairn.store.childRunIds(run.id),
    cairn.store.tags.get([run.id]),
  ]);
  const wire = toRunWire(toRunInfo(run, []));
  const runTags = tags.get(run.id) ?? {};
  return {
    ...wire,
    steps: enrichSteps(journal.map(stepFromEntry), journal, run.status),
    children,
    tags: runTags,
    version: null,
    rerunOf: runTags.rerunOf ?? null,
  };
}

/** A run's steps, enriched (`GET /runs/{id}/steps`). */
export async function toStepDetails(cairn: Cairn, id: string) {
  const run = await cairn.store.getRun(id as RunId);
  if (!run) throw new CairnError("RUN_NOT_FOUND", `No run with id "${id}".`);
  const journal = await cairn.store.getJournal(run.id);
  return { runId: run.id, steps: enrichSteps(journal.map(stepFromEntry), journal, run.status) };
}
