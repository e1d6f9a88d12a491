/**
 * `npm run bench:backlog`: what runs waiting on a queue no worker serves cost the workers
 * beside them. One process opens two engines on a fresh database: a starter without a
 * worker, and a worker serving the default queue. With a backlog of N runs of a workflow
 * on the queue "elsewhere" (created by a backfill, admitted by the worker, never claimed),
 * the starter starts 200 one-step runs one after another; each is claimed by the worker's
 * claim pass, as in a deployment where servers start runs and workers claim them. Prints,
 * per backlog size, the start-to-result latency (p50, p99) and the process's CPU per run.
 * Flags: `--db <url>` (default: fresh SQLite files in the OS temp dir), `--backlog N,N`
 * (default 0,50000; at most 100,000, the backfill's cap).
 */
import { Cairn, defineWorkflow } from "../src/index.ts";
import { flag } from "./args.ts";
import { databaseTarget } from "./database.ts";
import { cpuMsSince, percentile } from "./stats.ts";

const runs = 200;
const backlogs = flag("--backlog", "0,50000")
  .split(",")
  .map((text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0 || n > 100_000) {
      throw new Error(
        `--backlog "${text}": give whole numbers from 0 to 100,000 (the backfill's cap).`,
      );
    }
    return n;
  });
const target = databaseTarget(process.argv.includes("--db") ? flag("--db", "") : undefined);

const echo = defineWorkflow({ name: "bench-echo" }, async (ctx, n: number) =>
  ctx.step("echo", () => n),
);
const elsewhere = defineWorkflow({ name: "bench-elsewhere", queue: "elsewhere" }, async (ctx) =>
  ctx.step("never", () => 0),
);
const workflows = [echo, elsewhere];

async function measure(backlog: number): Promise<void> {
  const url = target.fresh(`backlog_${backlog}`);
  const worker = await Cairn.open({ db: url, workflows, sqlite: { synchronous: "FULL" } });
  const starter = await Cairn.open({ db: url, workflows, sqlite: { synchronous: "FULL" } });
  try {
    await worker.worker({ concurrency: 10 });
    if (backlog > 0) {
      const now = Date.now();
      await starter.schedules.create({
        id: "backlog",
        workflow: elsewhere.name,
        cron: "* * * * * *",
        paused: true,
      });
      await starter.schedules.backfill("backlog", { from: now - backlog * 1000, to: now });
      // The worker admits them (it has the workflow); then they wait, due, on their queue.
      while ((await worker.queueStats()).due < backlog) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const latencies: number[] = [];
    const cpu = process.cpuUsage();
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const run = await starter.start(echo, i);
      if ((await run.result()) !== i) throw new Error(`run ${i} returned the wrong output`);
      latencies.push(performance.now() - started);
    }
    const cpuPerRun = cpuMsSince(cpu) / runs;
    latencies.sort((a, b) => a - b);
    console.log(
      `backlog ${String(backlog).padStart(7)}: p50 ${percentile(latencies, 50).toFixed(2)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(2)} ms, CPU ${cpuPerRun.toFixed(2)} ms a run`,
    );
  } finally {
    await starter.close();
    await worker.close();
  }
}

console.log(`${target.description}; ${runs} one-step runs started one after another`);
try {
  for (const backlog of backlogs) await measure(backlog);
} finally {
  await target.dispose();
}
