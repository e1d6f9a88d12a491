/**
 * The workloads of Cairn's bench, engine-agnostic, for the peer engines under
 * bench/peers/<engine>/. Self-contained (node: built-ins only) so each peer folder can import
 * it as "../harness.ts" without depending on Cairn's own sources or packages.
 *
 * W1 seed-40     one workflow of 40 sequential steps, start -> result (ms)
 * W2 fan-out-40  one workflow of 40 parallel steps, start -> result (ms)
 * W3 throughput  200 workflows x 10 sequential steps started at once (steps/s)
 * W4 start       100 one-step workflows one after another, start -> result (p50/p99 ms)
 *
 * Every step is a trivial function returning a small JSON value; each workflow returns how many
 * steps ran, which the harness checks. A "pass" runs W1 (20 repeats), W2 (20 repeats),
 * W3 (one batch of 200) and W4 (100 runs); the reported figure is the median over passes of
 * each pass's figure (W1/W2: the pass median; W3: steps/s; W4: the pass p50 and p99).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, resolve } from "node:path";
import { median, percentile } from "../stats.ts";

export interface PeerEngine {
  /** Starts one workflow of `steps` sequential steps and resolves with its result. */
  sequential(steps: number): Promise<unknown>;
  /** Starts one workflow of `steps` parallel steps and resolves with its result. */
  fanOut(steps: number): Promise<unknown>;
}

export interface Options {
  passes: number;
  w1Repeats: number;
  w2Repeats: number;
  w4Runs: number;
  /** Warm-up runs of each workload before the first pass. */
  warmups: number;
}

export function options(argv: readonly string[] = process.argv.slice(2)): Options {
  const quick = argv.includes("--quick");
  const passesArg = argv.find((a) => a.startsWith("--passes="));
  const passes = passesArg ? Number(passesArg.slice("--passes=".length)) : quick ? 1 : 4;
  return quick
    ? { passes, w1Repeats: 3, w2Repeats: 3, w4Runs: 10, warmups: 1 }
    : { passes, w1Repeats: 20, w2Repeats: 20, w4Runs: 100, warmups: 40 };
}

/**
 * Where the raw result goes: `--out=<path>` (relative to the current directory), else
 * `fallback`, the engine's file under results/. `npm run bench:peers` passes its own path so
 * a smoke run does not overwrite an engine's last full run.
 */
export function resultPath(fallback: string, argv: readonly string[] = process.argv.slice(2)) {
  const out = argv.find((a) => a.startsWith("--out="));
  return out ? resolve(out.slice("--out=".length)) : fallback;
}

export interface Summary {
  n: number;
  min: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface PassResult {
  /** 1-minute load average when the pass began: other processes on the machine skew figures. */
  loadAverage1m: number;
  w1: Summary;
  w2: Summary;
  w3: { stepsPerSecond: number; wallMs: number; cpuPerStepMs: number };
  w4: Summary;
}

export interface Figures {
  w1MedianMs: number;
  w2MedianMs: number;
  w3StepsPerSecond: number;
  w4P50Ms: number;
  w4P99Ms: number;
}

export function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: round(sorted[0] ?? Number.NaN),
    median: round(median(sorted)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? Number.NaN),
    mean: round(sorted.reduce((sum, x) => sum + x, 0) / (sorted.length || 1)),
  };
}

const runTimeoutMs = 60_000;

/** Rejects if `p` has not settled within `ms`: a stuck engine must not hang the bench. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function check(out: unknown, expected: number): void {
  if (out !== expected) {
    throw new Error(`A bench run returned ${JSON.stringify(out)} instead of ${expected}.`);
  }
}

async function once(run: () => Promise<unknown>, expected: number): Promise<number> {
  const t0 = performance.now();
  check(await within(run(), runTimeoutMs, "A run"), expected);
  return performance.now() - t0;
}

async function samples(n: number, run: () => Promise<unknown>, expected: number) {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await once(run, expected));
  return out;
}

async function throughputBatch(engine: PeerEngine): Promise<PassResult["w3"]> {
  const runs = 200;
  const steps = 10;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const outs = await within(
    Promise.all(Array.from({ length: runs }, () => engine.sequential(steps))),
    runTimeoutMs * 5,
    "The W3 batch",
  );
  const wallMs = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  for (const out of outs) check(out, steps);
  return {
    stepsPerSecond: round(((runs * steps) / wallMs) * 1000, 0),
    wallMs: round(wallMs),
    cpuPerStepMs: round((used.user + used.system) / 1000 / (runs * steps), 4),
  };
}

export async function runWorkloads(
  engine: PeerEngine,
  opts: Options,
  log: (line: string) => void = (line) => console.log(line),
): Promise<{ passes: PassResult[]; figures: Figures }> {
  log(`warm-up (${opts.warmups} of each workload)`);
  await samples(opts.warmups, () => engine.sequential(40), 40);
  await samples(opts.warmups, () => engine.fanOut(40), 40);
  await throughputBatch(engine);
  await samples(opts.warmups * 3, () => engine.sequential(1), 1);

  const passes: PassResult[] = [];
  for (let p = 0; p < opts.passes; p++) {
    const loadAverage1m = round(os.loadavg()[0] ?? Number.NaN, 2);
    const w1 = summarize(await samples(opts.w1Repeats, () => engine.sequential(40), 40));
    const w2 = summarize(await samples(opts.w2Repeats, () => engine.fanOut(40), 40));
    const w3 = await throughputBatch(engine);
    const w4 = summarize(await samples(opts.w4Runs, () => engine.sequential(1), 1));
    passes.push({ loadAverage1m, w1, w2, w3, w4 });
    log(
      `pass ${p + 1}/${opts.passes} (load ${loadAverage1m}): W1 ${w1.median} ms · W2 ${w2.median} ms · ` +
        `W3 ${w3.stepsPerSecond} steps/s · W4 p50 ${w4.median} ms p99 ${w4.p99} ms`,
    );
  }
  const figures: Figures = {
    w1MedianMs: round(median(passes.map((x) => x.w1.median))),
    w2MedianMs: round(median(passes.map((x) => x.w2.median))),
    w3StepsPerSecond: round(median(passes.map((x) => x.w3.stepsPerSecond)), 0),
    w4P50Ms: round(median(passes.map((x) => x.w4.median))),
    w4P99Ms: round(median(passes.map((x) => x.w4.p99))),
  };
  log(
    `median of ${passes.length} passes: W1 ${figures.w1MedianMs} ms · W2 ${figures.w2MedianMs} ms · ` +
      `W3 ${figures.w3StepsPerSecond} steps/s · W4 p50 ${figures.w4P50Ms} ms p99 ${figures.w4P99Ms} ms`,
  );
  return { passes, figures };
}

function tryExec(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return null;
  }
}

/** Machine facts printed beside the figures; `pg` reads PostgreSQL's version and settings. */
export function describeMachine(pgUrl?: string) {
  const psql = (sql: string) => (pgUrl ? tryExec("psql", [pgUrl, "-XAtc", sql]) : null);
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
    cores: os.cpus().length,
    totalMemoryGB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    release: os.release(),
    loadAverage: os.loadavg().map((x) => round(x, 2)),
    date: new Date().toISOString(),
    postgres: pgUrl
      ? {
          version: psql("show server_version"),
          synchronousCommit: psql("show synchronous_commit"),
          fsync: psql("show fsync"),
          walSyncMethod: psql("show wal_sync_method"),
        }
      : null,
  };
}

export function writeResult(path: string, result: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${path}`);
}
