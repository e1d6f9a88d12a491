/**
 * `npm run bench:replay`: the deploy gate's speed. Records runs of 40 steps that then
 * sleep (unfinished, so `replayAll` checks them all) on a temporary SQLite file, then times
 * `cairn.replayAll` over them on a fresh engine (no worker): journals read, every position
 * replayed, nothing executed. Median of 3 passes after one warm-up pass (JIT), with the
 * load average beside each.
 * Target (issue 13): ≥ 2,000 runs of 40 steps replayed per second on SQLite.
 * `CAIRN_BENCH_REPLAY_RUNS` sets the number of runs (default 3,000).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Cairn, defineWorkflow } from "../src/index.ts";
import { median } from "./stats.ts";

const runs = Number(process.env.CAIRN_BENCH_REPLAY_RUNS ?? 3_000);
const steps = 40;
const passes = 3;

const fortySteps = defineWorkflow({ name: "forty-steps" }, async (ctx, n: number) => {
  let total = n;
  for (let i = 0; i < steps; i++) total = await ctx.step(`s${i}`, () => total + i);
  await ctx.sleep("rest", "30d");
  return total;
});

const dir = mkdtempSync(join(tmpdir(), "cairn-replay-bench-"));
const db = `sqlite:${join(dir, "bench.db")}`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

try {
  const recorder = await Cairn.open({ db, workflows: [fortySteps] });
  let waiting = 0;
  const allWaiting = new Promise<void>((resolve) => {
    recorder.subscribe((event) => {
      if (event.type === "run" && event.status === "waiting" && ++waiting === runs) resolve();
    });
  });
  await recorder.worker({ concurrency: 200 });
  const recordStart = performance.now();
  for (let i = 0; i < runs; i++) await recorder.start(fortySteps, i, { id: `r${i}` });
  await allWaiting;
  const recordMs = performance.now() - recordStart;
  await recorder.close();
  process.stdout.write(
    `recorded ${runs} runs x ${steps} steps in ${(recordMs / 1000).toFixed(1)} s\n`,
  );

  const cairn = await Cairn.open({ db });
  await cairn.replayAll([fortySteps]); // warm-up: the first pass also compiles the replay path
  const rates: number[] = [];
  // Runs per second of this process's CPU time: what the machine's load does not change much.
  const cpuRates: number[] = [];
  for (let pass = 1; pass <= passes; pass++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const report = await cairn.replayAll([fortySteps]);
    const ms = performance.now() - start;
    const cpu = process.cpuUsage(cpuStart);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    cpuRates.push(runs / (cpuMs / 1000));
    if (report.checked !== runs || report.diverged.length > 0) {
      throw new Error(`pass ${pass}: ${JSON.stringify(report).slice(0, 500)}`);
    }
    const rate = runs / (ms / 1000);
    rates.push(rate);
    process.stdout.write(
      `pass ${pass}: ${runs} runs in ${ms.toFixed(0)} ms = ${rate.toFixed(0)} runs/s, ` +
        `${cpuMs.toFixed(0)} ms CPU = ${(runs / (cpuMs / 1000)).toFixed(0)} runs per CPU-second (load ${load()})\n`,
    );
  }
  await cairn.close();
  const rate = median(rates);
  process.stdout.write(
    `replay --all, SQLite, ${steps} steps a run: median ${rate.toFixed(0)} runs/s ` +
      `(${((rate * steps) / 1000).toFixed(0)}k positions/s), ${median(cpuRates).toFixed(0)} runs per CPU-second; ` +
      `target >= 2,000 runs/s: ${rate >= 2000 ? "met" : "MISSED"}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
