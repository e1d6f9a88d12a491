/**
 * `npm run bench:ui`: the web UI's read paths at scale. With 100,000 runs in the store, the
 * time of `GET /api/v1/runs?limit=50` (the first page), and of a 5,000-step run's
 * `GET /api/v1/runs/{id}` and `/steps`. Targets: ≤ 150 ms and ≤ 300 ms.
 * Flags: `--db <url>` as for `npm run bench` (default: SQLite in a temp dir).
 */
import type { RunId } from "../src/core/types.ts";
import { openStore } from "../src/engine/open-store.ts";
import { Cairn } from "../src/sdk/cairn.ts";
import { startServer } from "../src/server/index.ts";
import type { JournalEntry, NewRun } from "../src/store/store.ts";
import { databaseTarget } from "./database.ts";
import { median, percentile } from "./stats.ts";

const runCount = 100_000;
const stepCount = 5_000;
const repeats = 30;

async function timed(fn: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  await fn(); // warm-up
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return times;
}

async function main(): Promise<void> {
  const dbIndex = process.argv.indexOf("--db");
  const target = databaseTarget(dbIndex > 0 ? process.argv[dbIndex + 1] : undefined);
  try {
    const store = await openStore(target.fresh("ui-reads"), { synchronous: "NORMAL" });
    const cairn = await Cairn.open({ store });
    const started = performance.now();
    const now = Date.now();
    for (let i = 0; i < runCount; i += 1000) {
      const batch: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(i + 1000, runCount); j++) {
        const run: NewRun = {
          id: `run-${String(j).padStart(6, "0")}` as RunId,
          workflow: `wf-${j % 10}`,
          input: '{"json":{"n":1}}',
          createdAt: now - (runCount - j) * 1000,
        };
        batch.push(cairn.store.createRun(run));
      }
      await Promise.all(batch);
    }
    const journal: JournalEntry[] = Array.from({ length: stepCount }, (_, position) => ({
      position,
      key: `step-${position}`,
      kind: "step",
      status: "completed",
      output: '{"json":{"ok":true,"n":42}}',
      error: null,
      attempt: 1,
      startedAt: now,
      finishedAt: now + 1,
      wakeAt: null,
      detail: null,
      seq: position + 1,
    }));
    await cairn.store.createRunWithJournal(
      { id: "big" as RunId, workflow: "big", input: '{"json":null}', createdAt: now },
      journal,
      {},
    );
    const seeded = performance.now() - started;
    const server = await startServer(cairn, { port: 0 });
    const get = (path: string) => async () => {
      const res = await fetch(`${server.url}${path}`);
      if (!res.ok) throw new Error(`${path}: ${res.status}`);
      await res.arrayBuffer();
    };
    const rows = [
      ["GET /api/v1/runs?limit=50", await timed(get("/api/v1/runs?limit=50")), 150],
      [
        "GET /api/v1/runs?limit=50&workflow=wf-3&status=queued",
        await timed(get("/api/v1/runs?limit=50&workflow=wf-3&status=queued")),
        150,
      ],
      ["GET /api/v1/runs/big (5,000 steps)", await timed(get("/api/v1/runs/big")), 300],
      ["GET /api/v1/runs/big/steps", await timed(get("/api/v1/runs/big/steps")), 300],
    ] as const;
    console.log(
      `${target.description}; ${runCount} runs + one of ${stepCount} steps seeded in ${(seeded / 1000).toFixed(1)} s`,
    );
    for (const [name, times, limit] of rows) {
      const p50 = median([...times]);
      const p95 = percentile(
        [...times].sort((a, b) => a - b),
        95,
      );
      const verdict = p50 <= limit ? "ok" : "OVER";
      console.log(
        `${name.padEnd(56)} p50 ${p50.toFixed(1).padStart(7)} ms  p95 ${p95.toFixed(1).padStart(7)} ms  (target ≤ ${limit} ms) ${verdict}`,
      );
    }
    await server.close();
    await cairn.close();
  } finally {
    await target.dispose();
  }
}

await main();
