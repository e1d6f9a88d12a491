/**
 * `npm run bench`: the benchmark workloads on fresh databases with full durability, engine
 * and worker in this process. Prints a table against the targets and writes JSON to
 * bench/results/. Flags: see args.ts (`npm run bench -- --help`).
 */
import { resolve } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs, usage, type WorkloadId } from "./args.ts";
import { DatabaseOpenError, type DatabaseTarget, databaseTarget } from "./database.ts";
import { measureFloor } from "./floor.ts";
import { idleCost, idlePlan } from "./idle.ts";
import { describeMachine, describeSource, measureConditions } from "./machine.ts";
import { formatReport, writeReport } from "./print.ts";
import { type BenchReport, floorRatio, names, verdicts } from "./report.ts";
import { schedulerLag } from "./scheduler-lag.ts";
import { floorCommits, targets } from "./targets.ts";
import { topologyBench } from "./topology.ts";
import { dedupeWarnings, warningCounts } from "./warnings.ts";
import { fanOut40, plan, seed40, startLatency, throughput, warmUp } from "./workloads.ts";

const defaultResultsDir = fileURLToPath(new URL("./results/", import.meta.url));

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  if (args.help) {
    console.log(usage);
    return 0;
  }
  dedupeWarnings();

  let target: DatabaseTarget;
  try {
    target = databaseTarget(args.db);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  try {
    const resultsDir = args.out === undefined ? defaultResultsDir : resolve(args.out);
    if (args.topology) return await topologyBench(target, args.quick, resultsDir);
    return await bench(target, args.only, args.quick, resultsDir);
  } catch (error) {
    if (error instanceof DatabaseOpenError) {
      console.error(`\nThe bench could not open its database.\n${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await target.dispose();
  }
}

/** The workloads whose figures depend on compiled engine code (W5 and W7 wait on timers). */
const warmedUp = new Set<WorkloadId>(["W1", "W2", "W3", "W4"]);

async function bench(
  target: DatabaseTarget,
  only: WorkloadId[],
  quick: boolean,
  resultsDir: string,
): Promise<number> {
  const machine = describeMachine();
  const floor = (samples: number) => measureFloor(target, samples);
  const report: BenchReport = {
    version: 1,
    date: machine.date,
    dialect: target.dialect,
    database: target.description,
    quick,
    workloads: only,
    machine,
    source: describeSource(fileURLToPath(new URL("..", import.meta.url))),
    conditions: {
      start: await measureConditions(floor, 300),
      workloads: {},
      end: undefined,
    },
    targets: targets[target.dialect],
    verdicts: {},
    results: {},
    errors: {},
    warnings: [],
  };
  const p = plan(quick);
  const steps: Record<WorkloadId, () => Promise<void>> = {
    W1: async () => {
      const r = await seed40(target, p.w1);
      report.results.W1 = { ...r, floor: floorOf(r.summary.median, "W1") };
    },
    W2: async () => {
      report.results.W2 = await fanOut40(target, p.w2);
    },
    W3: async () => {
      report.results.W3 = await throughput(target, p.w3);
    },
    W4: async () => {
      const r = await startLatency(target, p.w4);
      report.results.W4 = { ...r, floor: floorOf(r.summary.median, "W4") };
    },
    W5: async () => {
      report.results.W5 = await idleCost(target.fresh("w5-idle-cost"), idlePlan(quick));
    },
    W7: async () => {
      report.results.W7 = await schedulerLag(target.fresh("w7-scheduler-lag"));
    },
  };
  // The floor measured just before the workload: the disk's speed drifts under load.
  const floorOf = (value: number, id: keyof typeof floorCommits) => {
    const commit = report.conditions.workloads[id]?.commitFloor;
    return commit ? floorRatio(value, floorCommits[id], commit.commitMs) : undefined;
  };
  if (only.some((id) => warmedUp.has(id))) {
    process.stdout.write("warm-up … ");
    report.warmUp = await warmUp(target, p.warmUp);
    console.log(`done in ${(report.warmUp.ms / 1000).toFixed(1)} s`);
  }
  for (const id of only) {
    const t0 = performance.now();
    process.stdout.write(`${id} ${names[id]} … `);
    // Probed before each workload: a test suite started meanwhile shows up beside its figures.
    report.conditions.workloads[id] = await measureConditions(floor);
    // The engine runs in this process: a duty that holds the loop shows as a long delay.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    try {
      await steps[id]();
      loopDelay.disable();
      console.log(
        `done in ${((performance.now() - t0) / 1000).toFixed(1)} s · event-loop delay max ${(loopDelay.max / 1e6).toFixed(0)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms`,
      );
    } catch (error) {
      console.log("failed");
      // A store that cannot open fails every workload the same way: stop at the first.
      if (error instanceof DatabaseOpenError) throw error;
      console.error(error);
      report.errors[id] = error instanceof Error ? (error.stack ?? error.message) : String(error);
    }
  }
  report.conditions.end = await measureConditions(floor);
  const childWarnings = report.results.W5?.warnings ?? [];
  report.warnings = [
    ...warningCounts(),
    ...childWarnings.map((w) => ({ ...w, warning: `(W5 process) ${w.warning}` })),
  ];
  report.verdicts = verdicts(report);
  console.log(`\n${formatReport(report)}\n`);
  console.log(`JSON: ${writeReport(report, resultsDir).join("\n      ")}`);
  return Object.keys(report.errors).length > 0 ? 1 : 0;
}

// Exit codes only: every engine is closed and every timer gone, so the process ends by itself.
process.exitCode = await main();
