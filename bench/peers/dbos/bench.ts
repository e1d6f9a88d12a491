/**
 * DBOS Transact TS on the local PostgreSQL, the benchmark workloads (see ../harness.ts).
 *
 * The workflows run in this process (DBOS.startWorkflow runs them in-process, like Cairn's bench
 * with a local worker); every DBOS.runStep checkpoints its output to the system database before
 * the workflow goes on. DBOS defaults otherwise (system database pool of 10 connections).
 *
 *   npm run bench [-- --quick] [-- --passes=N]
 *   DBOS_BENCH_DB=postgres://postgres@127.0.0.1:5432/dbos_bench (default)
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DBOS } from "@dbos-inc/dbos-sdk";
import {
  describeMachine,
  options,
  type PeerEngine,
  resultPath,
  runWorkloads,
  writeResult,
} from "../harness.ts";

const dbUrl = process.env.DBOS_BENCH_DB ?? "postgres://postgres@127.0.0.1:5432/dbos_bench";
const adminUrl = new URL(dbUrl);
const dbName = adminUrl.pathname.slice(1);
adminUrl.pathname = "/postgres";

// A fresh system database each time, so no pass pays for an earlier one's rows.
execFileSync("psql", [adminUrl.toString(), "-Xqc", `DROP DATABASE IF EXISTS "${dbName}"`], {
  stdio: "ignore",
});
execFileSync("psql", [adminUrl.toString(), "-Xqc", `CREATE DATABASE "${dbName}"`]);

const sequential = DBOS.registerWorkflow(
  async (steps: number) => {
    let done = 0;
    for (let i = 0; i < steps; i++) {
      const out = await DBOS.runStep(async () => ({ i, ok: true }), { name: `step-${i}` });
      if (out.ok) done++;
    }
    return done;
  },
  { name: "bench-sequential" },
);

const fanOut = DBOS.registerWorkflow(
  async (steps: number) => {
    const outs = await Promise.all(
      Array.from({ length: steps }, (_, i) =>
        DBOS.runStep(async () => ({ i, ok: true }), { name: `branch-${i}` }),
      ),
    );
    return outs.filter((o) => o.ok).length;
  },
  { name: "bench-fan-out" },
);

DBOS.setConfig({ name: "cairn-peer-bench", systemDatabaseUrl: dbUrl, logLevel: "warn" });
await DBOS.launch();

const engine: PeerEngine = {
  async sequential(steps) {
    const handle = await DBOS.startWorkflow(sequential)(steps);
    return handle.getResult();
  },
  async fanOut(steps) {
    const handle = await DBOS.startWorkflow(fanOut)(steps);
    return handle.getResult();
  },
};

const opts = options();
const machine = describeMachine(dbUrl);
const version = JSON.parse(
  readFileSync(
    fileURLToPath(new URL("./node_modules/@dbos-inc/dbos-sdk/package.json", import.meta.url)),
    "utf8",
  ),
).version as string;
console.log(
  `DBOS Transact ${version}, ${machine.cpuModel} x${machine.cores}, Node ${machine.node}`,
);
try {
  const { passes, figures } = await runWorkloads(engine, opts);
  writeResult(resultPath(fileURLToPath(new URL("../results/dbos.json", import.meta.url))), {
    engine: "dbos",
    package: `@dbos-inc/dbos-sdk@${version}`,
    setup:
      "workflows in the bench process (DBOS.startWorkflow + handle.getResult), DBOS.runStep per step, " +
      "system database on local PostgreSQL over loopback, DBOS defaults (pool 10)",
    options: opts,
    machine,
    figures,
    passes,
  });
} finally {
  await DBOS.shutdown();
}
