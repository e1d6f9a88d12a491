import type { WorkloadId } from "./args.ts";
import type { Dialect } from "./database.ts";

/** Performance targets, per store. */
export interface Targets {
  w1MedianMs: number;
  /** W1's median at most this many times its floor (40 durable commits, floor.ts). */
  w1FloorRatio: number;
  w2MedianMs: number;
  w3StepsPerSecond: number;
  w4P50Ms: number;
  /** W4's p50 at most this many times its floor (two durable commits: start, completion). */
  w4FloorRatio: number;
  /** W4's p99, where the store has a target for it. */
  w4P99Ms: number | null;
  /** W7: 1,000 schedules due in one second, each run created at most this long after its slot (p99). */
  w7P99Ms: number;
}

export const targets: Record<Dialect, Targets> = {
  sqlite: {
    w1MedianMs: 60,
    w1FloorRatio: 1.5,
    w2MedianMs: 8,
    w3StepsPerSecond: 10_000,
    w4P50Ms: 3,
    w4FloorRatio: 2,
    w4P99Ms: null,
    w7P99Ms: 250,
  },
  postgres: {
    w1MedianMs: 70,
    w1FloorRatio: 1.5,
    w2MedianMs: 12,
    w3StepsPerSecond: 7_000,
    w4P50Ms: 3,
    w4FloorRatio: 2,
    w4P99Ms: 8,
    w7P99Ms: 250,
  },
};

/** How many durable commits each latency-bound workload must wait for at least. */
export const floorCommits = { W1: 40, W4: 2 } as const;

/**
 * W5 "flat": what the heap may grow per extra sleeping run between the smallest and the
 * largest level. A waiting run should cost one row in the store and nothing in the
 * worker; 64 bytes a run (0.55 MiB over 9,000 runs) leaves room for GC noise and V8's
 * own caches, while any per-run object the engine kept (a promise, a closure, a map
 * entry: hundreds of bytes each) would cross it.
 */
export const flatHeapBytesPerRun = 64;

/**
 * W5: idle CPU growth with the number of sleeping runs (ms of CPU per second) above which
 * the report flags it. Not part of the verdict (the target is flat *memory*), but an idle
 * worker polls once a second, and a poll that scanned the sleeping runs shows up here.
 */
export const idleCpuGrowthNoteMsPerSecond = 2;

/** Best peers measured on the reference machines, for the table. */
export const peers: Record<WorkloadId, string> = {
  W1: "110 ms (Restate)",
  W2: "24 ms (Restate)",
  W3: "2,740 steps/s (Restate)",
  W4: "4.1 ms (graphile-worker)",
  W5: "—",
  W7: "—",
};
