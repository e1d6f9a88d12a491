import type { Cairn } from "../src/index.ts";
import { type CommitCounts, countCommits, diffCommits, totalCommits } from "./commits.ts";
import { type DatabaseTarget, withEngine } from "./database.ts";
import { cpuMsSince, median, round, roundSummary, type Summary, summarize } from "./stats.ts";
import { within } from "./timeout.ts";
import { fanOut, sequential } from "./workflows.ts";

/** How much of each workload to run; `--quick` shrinks it to a smoke test. */
export interface Plan {
  /** Rounds of every workload's shape on a throwaway engine before anything is measured. */
  warmUp: { rounds: number };
  w1: { warmups: number; repeats: number };
  w2: { warmups: number; repeats: number };
  w3: { warmups: number; passes: number };
  w4: { warmups: number; runs: number };
}

export function plan(quick: boolean): Plan {
  return quick
    ? {
        warmUp: { rounds: 1 },
        w1: { warmups: 1, repeats: 5 },
        w2: { warmups: 1, repeats: 5 },
        w3: { warmups: 1, passes: 2 },
        w4: { warmups: 3, runs: 30 },
      }
    : {
        warmUp: { rounds: 4 },
        // A fresh engine's first runs pay for new connections (their backends' caches, their
        // prepared statements' first plans) whatever the warm-up before it: W1's runs kept
        // getting faster for about 40 of them.
        w1: { warmups: 40, repeats: 20 },
        w2: { warmups: 40, repeats: 20 },
        w3: { warmups: 1, passes: 5 },
        w4: { warmups: 100, runs: 100 },
      };
}

/** Journal and commit figures of the measured part of a workload. */
export interface WriteFigures {
  steps: number;
  /** `cairn.writer.stats` deltas. */
  writerOps: number;
  writerFlushes: number;
  opsPerStep: number;
  stepsPerFlush: number;
  /** Every write transaction of the store (starts included), see commits.ts. */
  commits: CommitCounts;
  stepsPerCommit: number;
}

export interface LatencyResult {
  samplesMs: number[];
  summary: Summary;
  cpuPerStepMs: number;
  writes: WriteFigures;
}

export interface ThroughputResult {
  /** Median over passes. */
  stepsPerSecond: number;
  passes: {
    stepsPerSecond: number;
    wallMs: number;
    /** From the first start until every `cairn.start` had returned. */
    startsMs: number;
    cpuPerStepMs: number;
  }[];
  cpuPerStepMs: number;
  writes: WriteFigures;
}

const w1Steps = 40;
const w2Steps = 40;
const w3Runs = 200;
const w3Steps = 10;

/** What the warm-up ran, for the report. */
export interface WarmUp {
  rounds: number;
  ms: number;
}

/**
 * Brings the engine's code to the state a server's is in after its first seconds, before
 * anything is measured: a throwaway engine runs each round a throughput pass and the shapes
 * of W1, W2 and W4. Without it the first workload measured V8 compiling the engine: W1's CPU
 * per step fell by half over its first hundred runs (PostgreSQL, 0.5 → 0.2 ms), so its median
 * of 20 said more about the JIT than about the engine.
 */
export function warmUp(target: DatabaseTarget, p: Plan["warmUp"]): Promise<WarmUp> {
  return withEngine(target, "warm-up", w3Runs, async (cairn) => {
    const t0 = performance.now();
    for (let i = 0; i < p.rounds; i++) {
      // W3's shape, then W1's, W2's and W4's.
      await throughputPass(cairn);
      for (let n = 0; n < 50; n++) await runOnce(cairn, sequential, { steps: w1Steps }, w1Steps);
      for (let n = 0; n < 10; n++) await runOnce(cairn, fanOut, { steps: w2Steps }, w2Steps);
      for (let n = 0; n < 100; n++) await runOnce(cairn, sequential, { steps: 1 }, 1);
    }
    return { rounds: p.rounds, ms: round(performance.now() - t0, 0) };
  });
}

/** W1 seed-40: one run of 40 sequential steps, `cairn.start` to `run.result()`. */
export function seed40(target: DatabaseTarget, p: Plan["w1"]): Promise<LatencyResult> {
  return withEngine(target, "w1-seed-40", 10, (cairn) =>
    latencyLoop(cairn, p.warmups, p.repeats, w1Steps, () =>
      runOnce(cairn, sequential, { steps: w1Steps }, w1Steps),
    ),
  );
}

/** W2 fan-out-40: one run of 40 parallel steps (Promise.all), start to result. */
export function fanOut40(target: DatabaseTarget, p: Plan["w2"]): Promise<LatencyResult> {
  return withEngine(target, "w2-fan-out-40", 10, (cairn) =>
    latencyLoop(cairn, p.warmups, p.repeats, w2Steps, () =>
      runOnce(cairn, fanOut, { steps: w2Steps }, w2Steps),
    ),
  );
}

/** W4 start latency: one-step runs one after another, start to result. */
export function startLatency(target: DatabaseTarget, p: Plan["w4"]): Promise<LatencyResult> {
  return withEngine(target, "w4-start-latency", 10, (cairn) =>
    latencyLoop(cairn, p.warmups, p.runs, 1, () => startLatencyRun(cairn)),
  );
}

/**
 * W3 throughput: 200 runs of 10 sequential steps started at once, on a worker with a slot
 * for each; steps per second from the first start to the last result.
 */
export function throughput(target: DatabaseTarget, p: Plan["w3"]): Promise<ThroughputResult> {
  return withEngine(target, "w3-throughput", w3Runs, async (cairn) => {
    for (let i = 0; i < p.warmups; i++) await throughputPass(cairn);
    const commits = countCommits(cairn.store);
    const before = { writer: { ...cairn.writer.stats }, commits: commits.read() };
    const passes: ThroughputResult["passes"] = [];
    for (let i = 0; i < p.passes; i++) passes.push(await throughputPass(cairn));
    const steps = p.passes * w3Runs * w3Steps;
    return {
      stepsPerSecond: median(passes.map((x) => x.stepsPerSecond)),
      passes,
      cpuPerStepMs: median(passes.map((x) => x.cpuPerStepMs)),
      writes: writeFigures(cairn, before, commits.read(), steps),
    };
  });
}

/** One W3 pass on an open engine: 200 runs of 10 steps started at once, until all have ended. */
export async function throughputPass(cairn: Cairn): Promise<ThroughputResult["passes"][number]> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  let startsMs = 0;
  let started = 0;
  const outputs = await Promise.all(
    Array.from({ length: w3Runs }, async () => {
      const run = await cairn.start(sequential, { steps: w3Steps });
      if (++started === w3Runs) startsMs = performance.now() - t0;
      return within(run.result(), runTimeoutMs, `Run ${run.id}`);
    }),
  );
  const wallMs = performance.now() - t0;
  const cpuMs = cpuMsSince(cpu);
  for (const out of outputs) expectSteps(out, w3Steps);
  const steps = w3Runs * w3Steps;
  return {
    stepsPerSecond: round((steps / wallMs) * 1000, 0),
    wallMs: round(wallMs),
    startsMs: round(startsMs),
    cpuPerStepMs: round(cpuMs / steps, 4),
  };
}

async function latencyLoop(
  cairn: Cairn,
  warmups: number,
  repeats: number,
  stepsPerRun: number,
  once: () => Promise<void>,
): Promise<LatencyResult> {
  // Warm-ups let V8 compile the hot paths and SQLite fill its page cache first.
  for (let i = 0; i < warmups; i++) await once();
  const commits = countCommits(cairn.store);
  const before = { writer: { ...cairn.writer.stats }, commits: commits.read() };
  const samplesMs: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await once();
    samplesMs.push(performance.now() - t0);
  }
  const steps = repeats * stepsPerRun;
  return {
    samplesMs: samplesMs.map((x) => round(x)),
    summary: roundSummary(summarize(samplesMs)),
    cpuPerStepMs: round(cpuMsSince(cpu) / steps, 4),
    writes: writeFigures(cairn, before, commits.read(), steps),
  };
}

/** One W4 run on an open engine: a one-step run, from its start until `result()` returns. */
export function startLatencyRun(cairn: Cairn): Promise<void> {
  return runOnce(cairn, sequential, { steps: 1 }, 1);
}

async function runOnce(
  cairn: Cairn,
  workflow: typeof sequential | typeof fanOut,
  input: { steps: number },
  expected: number,
): Promise<void> {
  const run = await cairn.start(workflow, input);
  expectSteps(await within(run.result(), runTimeoutMs, `Run ${run.id}`), expected);
}

/** Far above any sane figure: only a stuck engine gets here, and then the bench must not hang. */
const runTimeoutMs = 30_000;

/** A bench that measures a broken run measures nothing: check what came back. */
function expectSteps(output: unknown, expected: number): void {
  if (output !== expected) {
    throw new Error(`A bench run returned ${JSON.stringify(output)} instead of ${expected}.`);
  }
}

function writeFigures(
  cairn: Cairn,
  before: { writer: { flushes: number; ops: number }; commits: CommitCounts },
  commitsAfter: CommitCounts,
  steps: number,
): WriteFigures {
  const writerOps = cairn.writer.stats.ops - before.writer.ops;
  const writerFlushes = cairn.writer.stats.flushes - before.writer.flushes;
  const commits = diffCommits(commitsAfter, before.commits);
  return {
    steps,
    writerOps,
    writerFlushes,
    opsPerStep: round(writerOps / steps),
    stepsPerFlush: round(steps / writerFlushes, 2),
    commits,
    stepsPerCommit: round(steps / totalCommits(commits), 2),
  };
}
