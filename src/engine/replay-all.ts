import type { Clock } from "../core/clock.ts";
import type { RunId, RunStatus } from "../core/types.ts";
import type { Workflow } from "../core/workflow.ts";
import type { RunRecord } from "../store/run-records.ts";
import type { RunStore } from "../store/run-store.ts";
import { replayRun } from "./replay.ts";

export interface ReplayAllOptions {
  /** Only runs of this workflow. */
  workflow?: string;
  /**
   * Also replay the newest `finished` finished runs (completed, failed or cancelled: a
   * failed or cancelled run may still be retried) of each workflow checked. (Default: 0)
   */
  finished?: number;
  /** Runs replayed at once: their replays share the event loop's turns. (Default: 64) */
  concurrency?: number;
}

/** A run the new code would not resume as it was recorded. */
export interface RunDivergence {
  runId: RunId;
  workflow: string;
  version: number;
  status: RunStatus;
  /** The first journal position the code does not reproduce; null when the code is missing. */
  position: number | null;
  /** What the journal recorded there, e.g. `step "ship"`. */
  expected: string | null;
  /** What the code calls there instead, e.g. `step "email"` or `the end of the workflow`. */
  found: string | null;
  /** One line saying what differs, for people. */
  message: string;
}

/** What `replayAll` found. */
export interface ReplayAllReport {
  /** Runs replayed (or found without code). */
  checked: number;
  /** Runs the code reproduces. */
  consistent: number;
  /** Runs it does not, in the order they were listed (unfinished first, newest first). */
  diverged: RunDivergence[];
}

/**
 * The code a run needs: its workflow at its version, or why the code has none (the run
 * would be stranded: no worker would ever claim it).
 */
export type CodeFor = (run: RunRecord) => Workflow<unknown, unknown> | { missing: string };

const unfinished: readonly RunStatus[] = ["queued", "running", "waiting"];
const finishedStatuses: readonly RunStatus[] = ["completed", "failed", "cancelled"];
const page = 1000;

/**
 * The deploy gate: replays every unfinished run (and the newest `finished` finished runs of
 * each workflow in `names`) against `codeFor`'s code without executing any step or writing
 * anything, and lists the runs whose journal the code no longer reproduces.
 */
export async function replayAll(
  store: Pick<RunStore, "listRuns" | "getJournal">,
  clock: Clock,
  names: readonly string[],
  codeFor: CodeFor,
  options: ReplayAllOptions = {},
): Promise<ReplayAllReport> {
  const runs = await runsToCheck(store, names, options);
  const found: (RunDivergence | undefined)[] = new Array(runs.length);
  let next = 0;
  const replayNext = async (): Promise<void> => {
    while (next < runs.length) {
      const index = next++;
      found[index] = await check(store, clock, runs[index] as RunRecord, codeFor);
    }
  };
  const lanes = Math.max(1, Math.min(options.concurrency ?? 64, runs.length));
  await Promise.all(Array.from({ length: lanes }, replayNext));
  const diverged = found.filter((d): d is RunDivergence => d !== undefined);
  return { checked: runs.length, consistent: runs.length - diverged.length, diverged };
}

async function check(
  store: Pick<RunStore, "listRuns" | "getJournal">,
  clock: Clock,
  run: RunRecord,
  codeFor: CodeFor,
): Promise<RunDivergence | undefined> {
  const base = {
    runId: run.id,
    workflow: run.workflow,
    version: run.workflowVersion,
    status: run.status,
  };
  const code = codeFor(run);
  if ("missing" in code) {
    return { ...base, position: null, expected: null, found: null, message: code.missing };
  }
  const report = await replayRun(run, await store.getJournal(run.id), code, clock);
  if (!report.divergence) return undefined;
  const { position, expected, found } = report.divergence;
  return {
    ...base,
    position,
    expected,
    found,
    message: `at journal position ${position} the journal recorded ${expected} but the code now calls ${found}`,
  };
}

/** Unfinished runs (of `options.workflow` or all), then the newest finished ones per workflow. */
async function runsToCheck(
  store: Pick<RunStore, "listRuns" | "getJournal">,
  names: readonly string[],
  options: ReplayAllOptions,
): Promise<RunRecord[]> {
  const workflow = options.workflow;
  const runs: RunRecord[] = [];
  for (const status of unfinished) {
    runs.push(...(await listAll(store, status, workflow, Number.POSITIVE_INFINITY)));
  }
  const finished = options.finished ?? 0;
  if (finished > 0) {
    for (const name of workflow === undefined ? names : [workflow]) {
      const recent: RunRecord[] = [];
      for (const status of finishedStatuses) {
        recent.push(...(await listAll(store, status, name, finished)));
      }
      recent.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
      runs.push(...recent.slice(0, finished));
    }
  }
  return runs;
}

/** Up to `limit` runs in `status` (of `workflow`), newest first, page by page. */
async function listAll(
  store: Pick<RunStore, "listRuns" | "getJournal">,
  status: RunStatus,
  workflow: string | undefined,
  limit: number,
): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  let before: { createdAt: number; id: RunId } | undefined;
  while (runs.length < limit) {
    const want = Math.min(page, limit - runs.length);
    const batch = await store.listRuns({
      status,
      limit: want,
      ...(workflow === undefined ? {} : { workflow }),
      ...(before ? { before } : {}),
    });
    runs.push(...batch);
    const last = batch.at(-1);
    if (!last || batch.length < want) break;
    before = { createdAt: last.createdAt, id: last.id };
  }
  return runs;
}
