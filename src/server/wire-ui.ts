import type { z } from "@hono/zod-openapi";
import { CairnError } from "../core/errors.ts";
import { parseSerializedError } from "../core/serializer.ts";
import type { RunId, RunStatus } from "../core/types.ts";
import { toRunInfo } from "../engine/to-run-info.ts";
import type { Cairn } from "../sdk/cairn.ts";
import type { JournalEntry } from "../store/store.ts";
import type { Run, RunResult, Step } from "./schemas.ts";
import { toRunWire } from "./wire.ts";

/** `superjson.stringify(null)`: what a wait that timed out resolves to. */
const serializedNull = '{"json":null}';

// Neighbouring steps of a fast run share their millisecond; a 5,000-step page formats far
// fewer dates with a one-entry memo.
let lastMs = Number.NaN;
let lastIso = "";
const iso = (ms: number | null) => {
  if (ms === null) return null;
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
};

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

function parseDetail(text: string | null): Record<string, unknown> {
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** What a waiting position waits for: an event, a signal, a child run or a time. */
export function waitFor(entry: JournalEntry): Record<string, unknown> | undefined {
  switch (entry.kind) {
    case "sleep":
      return { until: iso(entry.wakeAt) };
    case "event": {
      const detail = parseDetail(entry.detail);
      return {
        event: detail.event ?? null,
        match: detail.match ?? null,
        timeoutAt: iso(entry.wakeAt),
      };
    }
    case "signal":
      return {
        signal: parseDetail(entry.detail).signal ?? entry.key,
        timeoutAt: iso(entry.wakeAt),
      };
    case "invoke":
      return { childRunId: parseDetail(entry.detail).childId ?? null };
    case "any": {
      const detail = parseDetail(entry.detail);
      return {
        events: detail.events ?? [],
        signals: detail.signals ?? [],
        timeoutAt: iso(entry.wakeAt),
      };
    }
    default:
      return entry.status === "retrying" ? { retryAt: iso(entry.wakeAt) } : undefined;
  }
}

/**
 * A stored payload (superjson text: `{ json, meta? }`) in the wire's `field` / `fieldMeta`
 * form, without superjson's deserialize-then-serialize round trip: the stored form already
 * is the wire form. A root `undefined` is left out, as `payload` in wire.ts does.
 */
export function storedPayload(text: string | null, field: string): Record<string, unknown> {
  if (text === null) return {};
  const { json, meta } = JSON.parse(text) as { json: unknown; meta?: { values?: unknown } };
  if (meta === undefined) return { [field]: json };
  const values = meta.values;
  if (Array.isArray(values) && values.length === 1 && values[0] === "undefined") return {};
  return { [field]: json, [`${field}Meta`]: meta };
}

/** A run's end as the store holds it (`runOutcome`), in the result route's form. */
export function toRunResultWire(end: {
  id: string;
  status: RunStatus;
  output: string | null;
  error: string | null;
}): z.infer<typeof RunResult> {
  return {
    runId: end.id,
    status: end.status,
    ...(end.status === "completed" ? storedPayload(end.output, "output") : {}),
    error: errorOf(end.error),
  };
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

/** A wire step without its output: everything but the stored payload (see step-json.ts). */
export type StepHead = Omit<z.infer<typeof Step>, "output" | "outputMeta">;

/**
 * A journal entry as the run page shows it, built in one pass straight from the stored row:
 * a 5,000-step run makes 5,000 of these per request. The journal keeps each position's
 * latest attempt only, so `attempts` holds that one; earlier ones are known by number.
 */
export function stepHead(e: JournalEntry, runStatus: RunStatus): StepHead {
  const startedAt = iso(e.startedAt);
  const finishedAt = iso(e.finishedAt);
  const error = errorOf(e.error);
  const step: StepHead = {
    position: e.position,
    key: e.key,
    kind: e.kind,
    status: e.status,
    attempt: e.attempt,
    startedAt,
    finishedAt,
    durationMs: e.startedAt !== null && e.finishedAt !== null ? e.finishedAt - e.startedAt : null,
    wakeAt: iso(e.wakeAt),
    error,
    state: stepState(e, runStatus),
  };
  if (e.kind === "invoke" && e.detail) {
    step.childRunId = (JSON.parse(e.detail) as { childId: string }).childId;
  }
  const wait = waitFor(e);
  if (wait) step.waitFor = wait;
  if (e.kind === "step" || e.kind === "transaction") {
    step.attempts = [
      error
        ? {
            attempt: e.attempt,
            startedAt,
            endedAt: finishedAt,
            error: { name: error.name, message: error.message },
          }
        : { attempt: e.attempt, startedAt, endedAt: finishedAt },
    ];
  }
  return step;
}

/** A journal entry as a wire step, output included. */
export function stepFromEntry(e: JournalEntry, runStatus: RunStatus): z.infer<typeof Step> {
  return Object.assign(stepHead(e, runStatus), storedPayload(e.output, "output"));
}

/** A run's page without its steps, and the journal the steps are built from. */
export async function loadRunDetail(cairn: Cairn, id: string) {
  const run = await cairn.store.getRun(id as RunId);
  if (!run) throw new CairnError("RUN_NOT_FOUND", `No run with id "${id}".`);
  const [journal, children, tags] = await Promise.all([
    cairn.store.getJournal(run.id),
    cairn.store.childRunIds(run.id),
    cairn.store.tags.get([run.id]),
  ]);
  const runTags = tags.get(run.id) ?? {};
  const { steps: _none, ...wire } = toRunWire(toRunInfo(run, []));
  const head: Omit<z.infer<typeof Run>, "steps"> = {
    ...wire,
    children,
    tags: runTags,
    version: null,
    rerunOf: runTags.rerunOf ?? null,
  };
  return { head, journal, status: run.status };
}

/** A run with what its page shows: steps with states and waits, children, tags, origin. */
export async function toRunDetail(cairn: Cairn, id: string): Promise<z.infer<typeof Run>> {
  const { head, journal, status } = await loadRunDetail(cairn, id);
  return { ...head, steps: journal.map((e) => stepFromEntry(e, status)) };
}

/** A run's journal as the run page shows it (`GET /runs/{id}/steps`). */
export async function loadRunJournal(cairn: Cairn, id: string) {
  const run = await cairn.store.getRun(id as RunId);
  if (!run) throw new CairnError("RUN_NOT_FOUND", `No run with id "${id}".`);
  return { runId: run.id, journal: await cairn.store.getJournal(run.id), status: run.status };
}
