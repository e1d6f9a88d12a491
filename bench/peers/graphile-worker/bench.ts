/**
 * graphile-worker on the local PostgreSQL, the benchmark workloads (see ../harness.ts), as a rough
 * baseline: graphile-worker is a job queue, not a workflow engine, so a "workflow" here is a
 * chain of jobs.
 *
 * - sequential(n): job i runs the step, then adds job i+1 carrying the step's output (committed
 *   before job i+1 can run, so each step's output is durable before the next starts); the last
 *   job stores the result in bench_result.
 * - fanOut(n): one job adds the n branch jobs in one batch (addJobs); each branch runs its step
 *   and bumps a counter row (its durable output); the branch that brings it to n stores the
 *   result.
 * The caller is told in-process once the result row has been committed. Runner and caller are in
 * this process; concurrency 10 jobs (graphile-worker's default is 1), pool of 12 connections.
 *
 *   npm run bench [-- --quick] [-- --passes=N]
 *   GW_BENCH_DB=postgres://postgres@127.0.0.1:5432/graphile_bench (default)
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Logger, run, type Task } from "graphile-worker";
import {
  describeMachine,
  options,
  type PeerEngine,
  resultPath,
  runWorkloads,
  writeResult,
} from "../harness.ts";

const dbUrl = process.env.GW_BENCH_DB ?? "postgres://postgres@127.0.0.1:5432/graphile_bench";
const adminUrl = new URL(dbUrl);
const dbName = adminUrl.pathname.slice(1);
adminUrl.pathname = "/postgres";
const concurrency = 10;

execFileSync("psql", [adminUrl.toString(), "-Xqc", `DROP DATABASE IF EXISTS "${dbName}"`], {
  stdio: "ignore",
});
execFileSync("psql", [adminUrl.toString(), "-Xqc", `CREATE DATABASE "${dbName}"`]);
execFileSync("psql", [
  dbUrl,
  "-Xqc",
  "CREATE TABLE bench_result (wf uuid PRIMARY KEY, result jsonb NOT NULL);" +
    "CREATE TABLE bench_fanout (wf uuid PRIMARY KEY, done int NOT NULL DEFAULT 0, total int NOT NULL);",
]);

/** Callers waiting for a workflow's result, by workflow id. */
const waiters = new Map<string, (result: unknown) => void>();

function step(i: number) {
  return { i, ok: true };
}

interface SeqPayload {
  wf: string;
  i: number;
  steps: number;
  done: number;
}

interface BranchPayload {
  wf: string;
  i: number;
  steps: number;
}

const seq: Task = async (raw, helpers) => {
  const p = raw as SeqPayload;
  const done = p.done + (step(p.i).ok ? 1 : 0);
  if (p.i + 1 < p.steps) {
    await helpers.addJob("seq", { ...p, i: p.i + 1, done } satisfies SeqPayload);
    return;
  }
  await helpers.query("INSERT INTO bench_result (wf, result) VALUES ($1, $2)", [
    p.wf,
    JSON.stringify(done),
  ]);
  waiters.get(p.wf)?.(done);
};

const fan: Task = async (raw, helpers) => {
  const p = raw as { wf: string; steps: number };
  await helpers.query("INSERT INTO bench_fanout (wf, total) VALUES ($1, $2)", [p.wf, p.steps]);
  await helpers.addJobs(
    Array.from({ length: p.steps }, (_, i) => ({
      identifier: "branch",
      payload: { wf: p.wf, i, steps: p.steps } satisfies BranchPayload,
    })),
  );
};

const branch: Task = async (raw, helpers) => {
  const p = raw as BranchPayload;
  if (!step(p.i).ok) throw new Error("step failed");
  const { rows } = await helpers.query<{ done: number; total: number }>(
    "UPDATE bench_fanout SET done = done + 1 WHERE wf = $1 RETURNING done, total",
    [p.wf],
  );
  const row = rows[0];
  if (row && row.done === row.total) {
    await helpers.query("INSERT INTO bench_result (wf, result) VALUES ($1, $2)", [
      p.wf,
      JSON.stringify(row.done),
    ]);
    waiters.get(p.wf)?.(row.done);
  }
};

// Warnings and errors only: the per-job "Completed task" INFO lines would be console cost.
const logger = new Logger(() => (level, message) => {
  if (level === "error" || level === "warning") console.error(`[graphile-worker] ${message}`);
});

const runner = await run({
  connectionString: dbUrl,
  concurrency,
  maxPoolSize: concurrency + 2,
  noHandleSignals: true,
  logger,
  taskList: { seq, fan, branch },
});

function start(identifier: string, payload: (wf: string) => object): Promise<unknown> {
  const wf = randomUUID();
  const result = new Promise<unknown>((resolve) => {
    waiters.set(wf, (value) => {
      waiters.delete(wf);
      resolve(value);
    });
  });
  return runner.addJob(identifier, payload(wf)).then(() => result);
}

const engine: PeerEngine = {
  sequential: (steps) => start("seq", (wf) => ({ wf, i: 0, steps, done: 0 }) satisfies SeqPayload),
  fanOut: (steps) => start("fan", (wf) => ({ wf, steps })),
};

const opts = options();
const machine = describeMachine(dbUrl);
const version = JSON.parse(
  readFileSync(
    fileURLToPath(new URL("./node_modules/graphile-worker/package.json", import.meta.url)),
    "utf8",
  ),
).version as string;
console.log(
  `graphile-worker ${version}, ${machine.cpuModel} x${machine.cores}, Node ${machine.node}`,
);
try {
  const { passes, figures } = await runWorkloads(engine, opts);
  writeResult(
    resultPath(fileURLToPath(new URL("../results/graphile-worker.json", import.meta.url))),
    {
      engine: "graphile-worker",
      package: `graphile-worker@${version}`,
      setup:
        `jobs chained (one job per step, next job added by the step's job; fan-out by addJobs + a ` +
        `counter row), result row committed before the caller is told; runner in the bench ` +
        `process, concurrency ${concurrency}, pool ${concurrency + 2}, local PostgreSQL over loopback`,
      options: opts,
      machine,
      figures,
      passes,
    },
  );
} finally {
  await runner.stop();
}
