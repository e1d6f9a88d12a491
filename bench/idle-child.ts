/**
 * W5 idle cost, in a process of its own (forked by idle.ts with --expose-gc) so that its
 * memory and CPU figures hold only the engine and its sleeping runs, not what W1–W4 left
 * behind in the bench process. Engine and worker still share this one process.
 */
import type { Cairn, RunId } from "../src/index.ts";
import { DatabaseOpenError, openEngine } from "./database.ts";
import { cpuMsSince, median, round } from "./stats.ts";
import { within } from "./timeout.ts";
import { dedupeWarnings, warningCounts } from "./warnings.ts";
import { sleeper } from "./workflows.ts";

export interface IdleConfig {
  url: string;
  /** Sleeping runs at each measurement, ascending, e.g. [1000, 10000]. */
  levels: number[];
  /** Runs taken through a whole suspend–wake–finish cycle before the baseline. */
  warmupRuns: number;
  idleWindowMs: number;
  /** Gives up when the runs have not all suspended after this long. */
  timeoutMs: number;
}

export interface IdleLevel {
  sleepingRuns: number;
  /** Runs started for this level (the rest were already asleep). */
  startedRuns: number;
  /** Time to start them and see every one `waiting` in the store. */
  startMs: number;
  /** After a full GC. */
  heapUsedMB: number;
  /** Heap V8 has reserved; it keeps the high-water mark of the start burst, as does RSS. */
  heapTotalMB: number;
  rssMB: number;
  externalMB: number;
  /** Runs the worker still held in memory when measured (should be 0). */
  workerActive: number;
  /** CPU (user + system) per second of wall time while nothing is due: median of slices. */
  idleCpuMsPerSecond: number;
  /** The same, per one-second slice of the idle window. */
  idleCpuSlicesMsPerSecond: number[];
  /**
   * Time the event loop (the engine's own JavaScript and its SQLite calls) was busy, per
   * second. Process CPU also counts V8's background threads (GC, compilers), which run on
   * their own schedule; this is the part the engine is responsible for.
   */
  idleLoopBusyMsPerSecond: number;
}

export interface IdleResult {
  warmupRuns: number;
  baseline: IdleLevel;
  levels: IdleLevel[];
  /** Warnings the child process emitted, counted like the parent's (warnings.ts). */
  warnings: { warning: string; count: number }[];
}

export type IdleMessage =
  | { ok: true; result: IdleResult }
  /** `open`: the database could not be opened at all (DatabaseOpenError in the parent). */
  | { ok: false; error: string; open: boolean };

const startChunk = 500;

async function main(): Promise<void> {
  dedupeWarnings();
  const config = JSON.parse(process.argv[2] ?? "") as IdleConfig;
  const message = await measure(config).then(
    (result): IdleMessage => ({ ok: true, result }),
    (error: unknown): IdleMessage =>
      error instanceof DatabaseOpenError
        ? { ok: false, error: error.message, open: true }
        : {
            ok: false,
            error: error instanceof Error ? (error.stack ?? error.message) : String(error),
            open: false,
          },
  );
  // Disconnecting closes the IPC channel, the last handle: the child then exits by itself.
  process.send?.(message, () => process.disconnect());
}

async function measure(config: IdleConfig): Promise<IdleResult> {
  const gc = globalThis.gc;
  if (typeof gc !== "function") throw new Error("W5 needs --expose-gc (idle.ts passes it).");
  // The worker never needs more slots than this: a run holds one only until it suspends.
  const cairn = await openEngine(config.url, 500);
  try {
    const worker = await cairn.worker();
    const measureNow = (sleepingRuns: number, startedRuns: number, startMs: number) =>
      sample({ sleepingRuns, startedRuns, startMs }, () => worker.activeCount, config.idleWindowMs);
    // V8 keeps compiling the start and suspend paths over the first thousands of runs; warm
    // them up first, or the 1,000-run level looks smaller than it is next to 10,000.
    await warmUp(cairn, config.warmupRuns, config.timeoutMs);
    const baseline = await measureNow(0, 0, 0);
    const levels: IdleLevel[] = [];
    let sleeping = 0;
    for (const level of config.levels) {
      const t0 = performance.now();
      await startSleepers(cairn, level - sleeping, config.timeoutMs);
      levels.push(await measureNow(level, level - sleeping, performance.now() - t0));
      sleeping = level;
    }
    return { warmupRuns: config.warmupRuns, baseline, levels, warnings: warningCounts() };
  } finally {
    await cairn.close();
  }
}

/** Runs `count` 1-ms sleepers to the end: each suspends, is claimed again and finishes. */
async function warmUp(cairn: Cairn, count: number, timeoutMs: number): Promise<void> {
  const runs = [];
  for (let i = 0; i < count; i += startChunk) {
    const n = Math.min(startChunk, count - i);
    runs.push(
      ...(await Promise.all(Array.from({ length: n }, () => cairn.start(sleeper, { ms: 1 })))),
    );
  }
  await within(Promise.all(runs.map((run) => run.result())), timeoutMs, "The W5 warm-up");
}

/** Starts `count` sleeping runs and resolves once the store shows every one `waiting`. */
async function startSleepers(cairn: Cairn, count: number, timeoutMs: number): Promise<void> {
  const pending = new Set<RunId>();
  for (let i = 0; i < count; i += startChunk) {
    const n = Math.min(startChunk, count - i);
    const runs = await Promise.all(
      Array.from({ length: n }, () => cairn.start(sleeper, { ms: 3_600_000 })),
    );
    for (const run of runs) pending.add(run.id);
  }
  const deadline = performance.now() + timeoutMs;
  while (pending.size > 0) {
    for (const id of pending) {
      const run = await cairn.store.getRun(id);
      if (run?.status === "waiting") pending.delete(id);
      else if (run && run.status !== "running" && run.status !== "queued") {
        throw new Error(`Sleeping run ${id} ended up ${run.status} instead of waiting.`);
      }
    }
    if (pending.size === 0) break;
    if (performance.now() > deadline) {
      throw new Error(`${pending.size} of ${count} runs were not waiting after ${timeoutMs} ms.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function sample(
  level: Pick<IdleLevel, "sleepingRuns" | "startedRuns" | "startMs">,
  active: () => number,
  idleWindowMs: number,
): Promise<IdleLevel> {
  // Let the last suspensions' microtasks and timers run out before measuring.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const before = await settledMemory();
  // The window in one-second slices, judged by their median: a collection V8 schedules on
  // its own (its memory reducer runs seconds after a burst of allocation) lands in one or
  // two slices and is not what an idle worker costs in the long run.
  const slices: number[] = [];
  const loop = performance.eventLoopUtilization();
  const windowStart = performance.now();
  for (let left = idleWindowMs; left > 0; left -= 1_000) {
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, left)));
    slices.push(cpuMsSince(cpu) / ((performance.now() - t0) / 1000));
  }
  const loopBusyMs = performance.eventLoopUtilization(loop).active;
  const loopBusyMsPerSecond = loopBusyMs / ((performance.now() - windowStart) / 1000);
  // Read again after the window: V8 finishes optimizing and flushing code across a few
  // more collections; the lower reading is the one closest to what the runs really hold.
  const after = await settledMemory();
  const memory = after.heapUsed <= before.heapUsed ? after : before;
  const mb = (bytes: number) => round(bytes / 2 ** 20, 3);
  return {
    ...level,
    startMs: round(level.startMs, 1),
    heapUsedMB: mb(memory.heapUsed),
    heapTotalMB: mb(memory.heapTotal),
    rssMB: mb(memory.rss),
    externalMB: mb(memory.external),
    workerActive: active(),
    idleCpuMsPerSecond: round(median(slices), 2),
    idleCpuSlicesMsPerSecond: slices.map((x) => round(x, 2)),
    idleLoopBusyMsPerSecond: round(loopBusyMsPerSecond, 2),
  };
}

/** Memory after full collections, so that garbage waiting for the GC does not count. */
async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    // Finalizers and weak callbacks run between collections.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage();
}

await main();
