import type { WorkloadId } from "./args.ts";
import type { Dialect } from "./database.ts";
import type { IdleResult } from "./idle-child.ts";
import { type Conditions, isBusy, type Machine, type Source } from "./machine.ts";
import type { SchedulerLagResult } from "./scheduler-lag.ts";
import { round } from "./stats.ts";
import {
  flatHeapBytesPerRun,
  idleCpuGrowthNoteMsPerSecond,
  peers,
  type Targets,
} from "./targets.ts";
import type { LatencyResult, ThroughputResult, WarmUp, WriteFigures } from "./workloads.ts";

export type Verdict = "PASS" | "MISS" | "ERROR";

/** A latency-bound figure beside the durable commits it must wait for (floor.ts). */
export interface FloorRatio {
  /** The figure judged: W1's median, W4's p50. */
  valueMs: number;
  /** One durable commit, p50, measured just before the workload. */
  commitMs: number;
  commits: number;
  /** `commits × commitMs`. */
  floorMs: number;
  /** `valueMs / floorMs`. */
  ratio: number;
}

export interface Results {
  W1?: LatencyResult & { floor?: FloorRatio };
  W2?: LatencyResult;
  W3?: ThroughputResult;
  W4?: LatencyResult & { floor?: FloorRatio };
  W5?: IdleResult;
  W7?: SchedulerLagResult;
}

/** `value` against `commits` durable commits of `commitMs` each. */
export function floorRatio(value: number, commits: number, commitMs: number): FloorRatio {
  const floorMs = commits * commitMs;
  return {
    valueMs: value,
    commitMs,
    commits,
    floorMs: round(floorMs, 4),
    ratio: round(value / floorMs, 2),
  };
}

export interface Row {
  id: WorkloadId;
  name: string;
  result: string;
  target: string;
  verdict: Verdict;
  peer: string;
  /** Secondary figures, one short phrase each. */
  details: string[];
}

export interface BenchReport {
  version: 1;
  date: string;
  dialect: Dialect;
  database: string;
  quick: boolean;
  workloads: WorkloadId[];
  machine: Machine;
  source: Source;
  /** Machine and disk conditions when the bench started, before each workload, at the end. */
  conditions: {
    start: Conditions;
    workloads: Partial<Record<WorkloadId, Conditions>>;
    end: Conditions | undefined;
  };
  /** Run before the first in-process workload (absent when none of W1–W4 ran). */
  warmUp?: WarmUp;
  targets: Targets;
  verdicts: Partial<Record<WorkloadId, Verdict>>;
  results: Results;
  errors: Partial<Record<WorkloadId, string>>;
  warnings: { warning: string; count: number }[];
}

export const names: Record<WorkloadId, string> = {
  W1: "seed-40",
  W2: "fan-out-40",
  W3: "throughput",
  W4: "start latency",
  W5: "idle cost",
  W7: "scheduler lag",
};

const ms = (x: number) => `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms`;
const int = (x: number) => Math.round(x).toLocaleString("en-US");
const verdict = (ok: boolean): Verdict => (ok ? "PASS" : "MISS");

/** One table row per workload run, with its verdict against its target. */
export function rows(report: BenchReport): Row[] {
  const t = report.targets;
  const out: Row[] = [];
  for (const id of report.workloads) {
    const base = { id, name: names[id], peer: peers[id] };
    const conditions = report.conditions.workloads[id];
    const noted = conditions ? [conditionsLine(conditions, report.machine.cores)] : [];
    const floorLine = (f: FloorRatio | undefined, max: number) =>
      f === undefined
        ? ["floor not measured: judged on the absolute target only"]
        : [
            `${f.ratio.toFixed(2)}× floor (${f.commits} × ${f.commitMs.toFixed(3)} ms = ${ms(f.floorMs)}; target ≤ ${max}×)`,
          ];
    const withFloor = (f: FloorRatio | undefined) =>
      f === undefined ? "" : ` · ${f.ratio.toFixed(2)}× floor`;
    const error = report.errors[id];
    if (error !== undefined) {
      out.push({
        ...base,
        result: "—",
        target: "",
        verdict: "ERROR",
        details: [...noted, firstLine(error)],
      });
      continue;
    }
    const r = report.results;
    if (id === "W1" && r.W1) {
      out.push({
        ...base,
        result: `${ms(r.W1.summary.median)} median${withFloor(r.W1.floor)}`,
        target: `≤ ${t.w1MedianMs} ms, ≤ ${t.w1FloorRatio}× floor`,
        verdict: verdict(
          r.W1.summary.median <= t.w1MedianMs &&
            (r.W1.floor === undefined || r.W1.floor.ratio <= t.w1FloorRatio),
        ),
        details: [
          ...noted,
          ...floorLine(r.W1.floor, t.w1FloorRatio),
          `p90 ${ms(r.W1.summary.p90)}, min ${ms(r.W1.summary.min)}, n=${r.W1.summary.n}`,
          `${r.W1.cpuPerStepMs.toFixed(3)} ms CPU/step`,
          writesLine(r.W1),
        ],
      });
    } else if (id === "W2" && r.W2) {
      out.push({
        ...base,
        result: `${ms(r.W2.summary.median)} median`,
        target: `≤ ${t.w2MedianMs} ms`,
        verdict: verdict(r.W2.summary.median <= t.w2MedianMs),
        details: [
          ...noted,
          `p90 ${ms(r.W2.summary.p90)}, min ${ms(r.W2.summary.min)}, n=${r.W2.summary.n}`,
          `${r.W2.cpuPerStepMs.toFixed(3)} ms CPU/step`,
          writesLine(r.W2),
          ...batchingNotes(r.W2.writes, { steps: 40, starts: 1 }),
        ],
      });
    } else if (id === "W3" && r.W3) {
      const rates = r.W3.passes.map((p) => int(p.stepsPerSecond)).join(", ");
      const starts = r.W3.passes.map((p) => p.startsMs.toFixed(0)).join(", ");
      const walls = r.W3.passes.map((p) => p.wallMs.toFixed(0)).join(", ");
      out.push({
        ...base,
        result: `${int(r.W3.stepsPerSecond)} steps/s median`,
        target: `≥ ${int(t.w3StepsPerSecond)} steps/s`,
        verdict: verdict(r.W3.stepsPerSecond >= t.w3StepsPerSecond),
        details: [
          ...noted,
          `passes: ${rates} steps/s`,
          `wall ${walls} ms, of which starting the 200 runs ${starts} ms`,
          `${r.W3.cpuPerStepMs.toFixed(3)} ms CPU/step (spec: well under 0.3)`,
          writesLine(r.W3),
          ...batchingNotes(r.W3.writes, { steps: 200, starts: 200 }),
        ],
      });
    } else if (id === "W4" && r.W4) {
      out.push({
        ...base,
        result: `p50 ${ms(r.W4.summary.median)}${withFloor(r.W4.floor)}, p99 ${ms(r.W4.summary.p99)}`,
        target: `p50 ≤ ${t.w4P50Ms} ms, ≤ ${t.w4FloorRatio}× floor${t.w4P99Ms === null ? "" : `; p99 ≤ ${t.w4P99Ms} ms`}`,
        verdict: verdict(
          r.W4.summary.median <= t.w4P50Ms &&
            (r.W4.floor === undefined || r.W4.floor.ratio <= t.w4FloorRatio) &&
            (t.w4P99Ms === null || r.W4.summary.p99 <= t.w4P99Ms),
        ),
        details: [
          ...noted,
          ...floorLine(r.W4.floor, t.w4FloorRatio),
          `p99 ${ms(r.W4.summary.p99)}, max ${ms(r.W4.summary.max)}, n=${r.W4.summary.n}`,
          `${r.W4.cpuPerStepMs.toFixed(3)} ms CPU/run`,
          writesLine(r.W4),
        ],
      });
    } else if (id === "W7" && r.W7) {
      const row = schedulerLagRow(r.W7, t.w7P99Ms);
      out.push({ ...base, ...row, details: [...noted, ...row.details] });
    } else if (id === "W5" && r.W5) {
      const flat = idleFlatness(r.W5);
      const levels = [r.W5.baseline, ...r.W5.levels];
      out.push({
        ...base,
        result: `${flat.heapBytesPerRun.toFixed(0)} B heap/run`,
        target: `flat (≤ ${flatHeapBytesPerRun} B/run)`,
        verdict: verdict(flat.flat),
        details: [
          ...noted,
          `measured after ${int(r.W5.warmupRuns)} warm-up runs (sleep 1 ms: suspend, wake, replay, finish) and a full GC`,
          ...levels.map(
            (l) =>
              `${int(l.sleepingRuns).padStart(6)} sleeping: heap used ${l.heapUsedMB.toFixed(1)} MB (reserved ${l.heapTotalMB.toFixed(1)}), rss ${l.rssMB.toFixed(1)} MB, idle: event loop busy ${l.idleLoopBusyMsPerSecond.toFixed(2)} ms/s, process CPU ${l.idleCpuMsPerSecond.toFixed(2)} ms/s (1-s slices ${Math.min(...l.idleCpuSlicesMsPerSecond).toFixed(1)}–${Math.max(...l.idleCpuSlicesMsPerSecond).toFixed(1)}), runs in worker ${l.workerActive}` +
              (l.startedRuns > 0
                ? `; ${int(l.startedRuns)} started and suspended in ${(l.startMs / 1000).toFixed(1)} s`
                : ""),
          ),
          flat.idleCpuGrowthMsPerSecond > idleCpuGrowthNoteMsPerSecond
            ? `NOTE idle work grows with sleeping runs: event loop +${flat.idleCpuGrowthMsPerSecond.toFixed(2)} ms/s busier (the target is memory, but idle work should be flat too)`
            : `idle work flat: event loop ${flat.idleCpuGrowthMsPerSecond >= 0 ? "+" : ""}${flat.idleCpuGrowthMsPerSecond.toFixed(2)} ms/s`,
        ],
      });
    }
  }
  return out;
}

/**
 * Heap growth per added sleeping run, and idle CPU growth, between the first and the last
 * level. Flat = the heap stays put and no run stays in the worker; RSS and V8's reserved
 * heap keep the high-water mark of starting thousands of runs, so they are shown, not judged.
 */
export function idleFlatness(r: IdleResult): {
  heapBytesPerRun: number;
  idleCpuGrowthMsPerSecond: number;
  flat: boolean;
} {
  const first = r.levels[0];
  const last = r.levels[r.levels.length - 1];
  if (!first || !last || last.sleepingRuns === first.sleepingRuns) {
    return { heapBytesPerRun: Number.NaN, idleCpuGrowthMsPerSecond: Number.NaN, flat: false };
  }
  const heapBytesPerRun =
    ((last.heapUsedMB - first.heapUsedMB) * 2 ** 20) / (last.sleepingRuns - first.sleepingRuns);
  // The event loop's share, not process CPU: V8's background threads are noise here.
  const idleCpuGrowthMsPerSecond = last.idleLoopBusyMsPerSecond - first.idleLoopBusyMsPerSecond;
  return {
    heapBytesPerRun: round(heapBytesPerRun, 1),
    idleCpuGrowthMsPerSecond: round(idleCpuGrowthMsPerSecond, 2),
    flat: heapBytesPerRun <= flatHeapBytesPerRun && last.workerActive === 0,
  };
}

function schedulerLagRow(r: SchedulerLagResult, maxP99Ms: number) {
  const lag = (l: { p50: number | null; p99: number | null; max: number | null }) =>
    `p50 ${l.p50 ?? "—"} ms, p99 ${l.p99 ?? "—"} ms, max ${l.max ?? "—"} ms`;
  const p99 = r.committedLagMs.p99;
  return {
    result: `p99 ${p99 ?? "—"} ms`,
    target: `p99 ≤ ${maxP99Ms} ms`,
    verdict: verdict(p99 !== null && p99 <= maxP99Ms && r.runsForSlot === r.schedules),
    details: [
      `${int(r.schedules)} schedules due in one second, ${int(r.runsForSlot)} runs for the slot`,
      `committed (run visible to workers) after the slot: ${lag(r.committedLagMs)}`,
      `created_at (the scheduler pass's clock) after the slot: ${lag(r.createdLagMs)}`,
      `started after the slot: ${lag(r.startedLagMs)}`,
    ],
  };
}

function writesLine(r: LatencyResult | ThroughputResult): string {
  const w = r.writes;
  const c = w.commits;
  return (
    `writer: ${w.opsPerStep} ops/step, ${w.stepsPerFlush} steps/flush; ` +
    `all commits: ${w.stepsPerCommit} steps/commit (${c.starts} for ${c.startCalls} starts + ${c.journal} flushes + ${c.claims} claims + ${c.renewals} renewals)`
  );
}

/**
 * steps that finish together share one commit, and runs started together
 * could too. Flags a workload whose commits are batched less than its shape allows.
 */
function batchingNotes(w: WriteFigures, together: { steps: number; starts: number }): string[] {
  const notes: string[] = [];
  if (w.stepsPerFlush < together.steps) {
    notes.push(
      `NOTE steps that finish together do not share a commit: ${w.stepsPerFlush} steps/flush, ${together.steps} possible`,
    );
  }
  const { starts, startCalls } = w.commits;
  if (together.starts > 1 && starts > startCalls / together.starts) {
    notes.push(
      `NOTE runs started together do not share a commit: ${int(startCalls)} starts took ${int(starts)} commits, ${int(startCalls / together.starts)} possible`,
    );
  }
  return notes;
}

function conditionsLine(c: Conditions, cores: number): string {
  const floor = c.commitFloor
    ? `, commit floor ${c.commitFloor.commitMs.toFixed(3)} ms (p90 ${c.commitFloor.commitP90Ms.toFixed(3)})`
    : "";
  const text = `CPU availability ${c.cpuAvailability.toFixed(2)}, 1-min load ${c.loadAverage1m.toFixed(2)}${floor}`;
  return isBusy(c, cores) ? `BUSY MACHINE (${text}): rerun when quiet` : `conditions: ${text}`;
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

export function verdicts(report: BenchReport): Partial<Record<WorkloadId, Verdict>> {
  return Object.fromEntries(rows(report).map((r) => [r.id, r.verdict]));
}
