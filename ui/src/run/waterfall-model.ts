import type { Step } from "../api/types.ts";

/** One drawn piece of a row: an attempt's work, a retry's backoff, or a wait. */
export interface Segment {
  kind: "attempt" | "backoff" | "wait";
  start: number;
  end: number;
  /** Still going: drawn up to "now". */
  open: boolean;
  failed: boolean;
  label: string;
}

export interface WaterfallRow {
  step: Step;
  segments: Segment[];
  /** The row's whole extent, for its duration label. */
  start: number | null;
  end: number | null;
}

export interface Waterfall {
  rows: WaterfallRow[];
  t0: number;
  t1: number;
}

const waitKinds = new Set(["sleep", "event", "signal", "invoke", "child", "any"]);
const ms = (iso: string | null | undefined) => (iso ? new Date(iso).getTime() : null);

/** What a wait waits for, in words: `sleep until 14:05`, `event order.paid`, `child run r-2`. */
export function waitLabel(step: Step): string {
  const wait = step.waitFor ?? {};
  const timedOut = step.state === "timedOut" ? " (timed out)" : "";
  switch (step.kind) {
    case "sleep": {
      const until = wait.until ?? step.wakeAt;
      return until ? `sleep until ${new Date(until).toLocaleTimeString()}` : "sleep";
    }
    case "event":
      return `waits for event ${wait.event ?? step.key}${timedOut}`;
    case "signal":
      return `waits for signal ${wait.signal ?? step.key}${timedOut}`;
    case "any": {
      const events = wait.events?.map((e) => e.event) ?? [];
      const signals = wait.signals ?? [];
      const names = [...events, ...signals.map((s) => `signal ${s}`)].join(", ");
      return `waits for the first of ${names || step.key}${timedOut}`;
    }
    case "invoke":
    case "child":
      return `waits for child run ${step.childRunId ?? wait.childRunId ?? step.key}`;
    default:
      return step.kind;
  }
}

/**
 * Lays a run's steps on one time axis: each attempt of a step as its own segment, the gap
 * between two attempts as backoff, and sleeps and waits as labelled wait segments.
 * Entries still open end at `now`.
 */
export function buildWaterfall(
  steps: readonly Step[],
  run: { createdAt: string; startedAt: string | null; finishedAt: string | null },
  now: number,
): Waterfall {
  const rows: WaterfallRow[] = [];
  let previousEnd = ms(run.startedAt);
  for (const step of steps) {
    const row = rowOf(step, now, previousEnd);
    rows.push(row);
    if (row.end !== null) previousEnd = row.end;
  }
  let t0 = ms(run.startedAt) ?? ms(run.createdAt) ?? now;
  let t1 = ms(run.finishedAt) ?? now;
  for (const row of rows) {
    if (row.start !== null) t0 = Math.min(t0, row.start);
    if (row.end !== null) t1 = Math.max(t1, row.end);
  }
  if (t1 <= t0) t1 = t0 + 1;
  return { rows, t0, t1 };
}

/**
 * One row. `previousEnd` (where the step before ended) bounds the earlier attempts of a step
 * retried without an attempts list: they and their backoff fill the gap before its last try.
 */
function rowOf(step: Step, now: number, previousEnd: number | null): WaterfallRow {
  const segments: Segment[] = [];
  const stepStart = ms(step.startedAt);
  const stepEnd = ms(step.finishedAt);
  if (waitKinds.has(step.kind)) {
    if (stepStart !== null) {
      segments.push({
        kind: "wait",
        start: stepStart,
        end: stepEnd ?? now,
        open: stepEnd === null,
        failed: step.status === "failed",
        label: waitLabel(step),
      });
    }
  } else if (step.attempts && step.attempts.length > 0) {
    const firstListed = step.attempts[0];
    const firstStart = ms(firstListed?.startedAt);
    // The server lists only the attempts its journal kept (often just the last): earlier
    // ones and their backoff fill the gap since the step before.
    if (
      firstListed &&
      firstListed.attempt > 1 &&
      previousEnd !== null &&
      firstStart !== null &&
      previousEnd < firstStart
    ) {
      segments.push(earlierAttempts(previousEnd, firstStart, firstListed.attempt - 1));
    }
    let attemptEnd: number | null = null;
    for (const attempt of step.attempts) {
      const start = ms(attempt.startedAt);
      if (start === null) continue;
      if (attemptEnd !== null && start > attemptEnd) {
        segments.push({
          kind: "backoff",
          start: attemptEnd,
          end: start,
          open: false,
          failed: false,
          label: `backoff before attempt ${attempt.attempt}`,
        });
      }
      const end = ms(attempt.endedAt);
      segments.push({
        kind: "attempt",
        start,
        end: end ?? now,
        open: end === null,
        failed: Boolean(attempt.error),
        label: `attempt ${attempt.attempt}${attempt.error ? `: ${attempt.error.message}` : ""}`,
      });
      attemptEnd = end ?? now;
    }
    // A retry scheduled but not started yet: the backoff runs until now.
    const last = step.attempts.at(-1);
    if (step.status === "retrying" && last?.endedAt && attemptEnd !== null) {
      segments.push({
        kind: "backoff",
        start: attemptEnd,
        end: Math.max(attemptEnd, now),
        open: true,
        failed: false,
        label: `backoff before attempt ${last.attempt + 1}`,
      });
    }
  } else if (stepStart !== null) {
    if (step.attempt > 1 && previousEnd !== null && previousEnd < stepStart) {
      segments.push(earlierAttempts(previousEnd, stepStart, step.attempt - 1));
    }
    segments.push({
      kind: "attempt",
      start: stepStart,
      end: stepEnd ?? now,
      open: stepEnd === null,
      failed: step.status === "failed" || step.status === "retrying",
      label:
        step.attempt > 1
          ? `attempt ${step.attempt}${step.error ? `: ${step.error.message}` : ""}`
          : step.key,
    });
  }
  const start = segments.length > 0 ? Math.min(...segments.map((s) => s.start)) : null;
  const end = segments.length > 0 ? Math.max(...segments.map((s) => s.end)) : null;
  return { step, segments, start, end };
}

function earlierAttempts(start: number, end: number, count: number): Segment {
  return {
    kind: "backoff",
    start,
    end,
    open: false,
    failed: false,
    label: `${count} earlier failed attempt${count === 1 ? "" : "s"} and backoff`,
  };
}

/**
 * Failed attempts of a step: the listed attempts with an error, plus the unlisted earlier
 * ones (a later attempt exists only because they failed).
 */
export function failedAttempts(step: Step): number {
  if (step.attempts && step.attempts.length > 0) {
    const unlisted = (step.attempts[0]?.attempt ?? 1) - 1;
    return unlisted + step.attempts.filter((a) => a.error).length;
  }
  if (step.status === "failed") return step.attempt;
  if (step.error) return Math.max(1, step.attempt - (step.status === "completed" ? 1 : 0));
  return step.status === "completed" ? step.attempt - 1 : 0;
}
