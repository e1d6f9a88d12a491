import type { RunStore } from "../store/run-store.ts";

/** How a purge goes about its work. */
export interface PurgeLimits {
  /**
   * Runs deleted per chunk, each chunk one short transaction. (Default: adapted as it goes,
   * 10 to 2,000 runs, so that a chunk takes about 100 ms whatever the runs' journal sizes)
   */
  chunkRuns?: number;
  /** Stop after this many runs; the rest waits for the next pass. (Default: no limit) */
  maxRuns?: number;
}

/** One chunk's report: runs deleted; `done` on the last one, `more` if a bound stopped it. */
export type PurgeReport = (runs: number, done: boolean, more: boolean) => void;

/** The adapted chunk: its first size, its bounds, and the time a chunk should take. */
const adaptive = { first: 100, min: 10, max: 2_000, targetMs: 100 };
/** The longest rest between two chunks, in ms; see below. */
const longestRestMs = 1_000;

/**
 * Deletes the finished runs that finished before `before`, oldest first, one bounded chunk
 * (one short transaction) at a time. Between chunks it rests as long as the last chunk took
 * (at most a second): a purge takes at most about half of the database's time and the event
 * loop's, so live runs beside it keep going — a backlog of a million runs drains in the
 * background instead of stalling the workers for its duration. `report` hears each chunk
 * that deleted runs and, last, the purge's end (`done`). Stops between chunks once `signal`
 * aborts. Resolves with the number of runs deleted.
 */
export async function purgeFinishedRuns(
  store: Pick<RunStore, "deleteFinishedRuns">,
  before: number,
  limits: PurgeLimits,
  report: PurgeReport,
  signal?: AbortSignal,
): Promise<number> {
  let chunkRuns = limits.chunkRuns ?? adaptive.first;
  const maxRuns = limits.maxRuns ?? Number.POSITIVE_INFINITY;
  let runs = 0;
  for (;;) {
    const limit = Math.min(chunkRuns, maxRuns - runs);
    if (limit <= 0 || signal?.aborted) {
      report(0, true, true);
      return runs;
    }
    const started = performance.now();
    const deleted = await store.deleteFinishedRuns(before, limit);
    runs += deleted;
    if (deleted < limit) {
      report(deleted, true, false);
      return runs;
    }
    report(deleted, false, false);
    const tookMs = performance.now() - started;
    if (limits.chunkRuns === undefined) chunkRuns = nextChunk(chunkRuns, tookMs);
    await rest(Math.min(tookMs, longestRestMs));
  }
}

/** Halves a chunk that took over twice the target, doubles one under half of it. */
function nextChunk(runs: number, tookMs: number): number {
  if (tookMs > 2 * adaptive.targetMs) return Math.max(adaptive.min, Math.floor(runs / 2));
  if (tookMs < adaptive.targetMs / 2) return Math.min(adaptive.max, runs * 2);
  return runs;
}

// Real time, not the engine's clock: this paces the database's work, it schedules nothing.
function rest(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
