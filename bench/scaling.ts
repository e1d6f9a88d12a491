/**
 * The scaling run of docs/scaling.md: W3 (200 workflows × 10 steps, started at once) on
 * PostgreSQL with 1, 2 and 4 worker processes. The starting process runs no worker; the
 * runs are claimed with SKIP LOCKED and woken by LISTEN/NOTIFY.
 *
 *   npx tsx bench/scaling.ts [--db postgres://…] [--passes 3]
 */
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import postgres from "postgres";
import { Cairn } from "../src/index.ts";
import { sequential } from "./workflows.ts";

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const base = flag("--db") ?? process.env.CAIRN_DB ?? "postgres://postgres@127.0.0.1:5432/test";
const passes = Number(flag("--passes") ?? 3);
const runs = 200;
const steps = 10;

async function pass(workers: number): Promise<number> {
  const schema = `cairn_scaling_${randomBytes(4).toString("hex")}`;
  const db = `${base}${base.includes("?") ? "&" : "?"}schema=${schema}`;
  const starter = await Cairn.open({ db, workflows: [sequential] });
  const children = await Promise.all(
    Array.from({ length: workers }, () => {
      const child = fork(new URL("./scaling-worker.ts", import.meta.url).pathname, [], {
        env: { ...process.env, CAIRN_DB: db },
        execArgv: ["--import", "tsx"],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      return new Promise<typeof child>((resolve) => child.once("message", () => resolve(child)));
    }),
  );
  try {
    const started = performance.now();
    await Promise.all(Array.from({ length: runs }, () => starter.start(sequential, { steps })));
    // Poll the store tightly: run handles back off (up to 1 s), which would blur the figure.
    while ((await starter.queueStats()).due + (await starter.queueStats()).running > 0) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const seconds = (performance.now() - started) / 1000;
    const done = await starter.listRuns({ status: "completed", limit: 1000 });
    if (done.length !== runs) throw new Error(`only ${done.length} of ${runs} runs completed`);
    return (runs * steps) / seconds;
  } finally {
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(children.map((c) => new Promise((r) => c.once("exit", r))));
    await starter.close();
    const sql = postgres(base, { onnotice: () => {} });
    await sql`DROP SCHEMA ${sql(schema)} CASCADE`;
    await sql.end();
  }
}

const results: Record<string, number[]> = {};
for (const workers of [1, 2, 4]) {
  results[workers] = [];
  for (let i = 0; i < passes; i++) results[workers]?.push(await pass(workers));
  const sorted = [...(results[workers] ?? [])].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  console.log(
    `W3 on PostgreSQL, ${workers} worker process(es): median ${Math.round(median).toLocaleString("en-US")} steps/s ` +
      `(passes ${sorted.map((s) => Math.round(s).toLocaleString("en-US")).join(", ")})`,
  );
}
const out = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  workload: `W3: ${runs} workflows × ${steps} steps, started at once by a process without a worker`,
  stepsPerSecond: results,
};
writeFileSync(
  new URL("./results/scaling-postgres.json", import.meta.url),
  `${JSON.stringify(out, null, 2)}\n`,
);
