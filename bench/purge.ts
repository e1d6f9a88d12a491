/**
 * `npm run bench:purge`: retention beside live work, on PostgreSQL. Seeds finished runs
 * holding 1,000,000 journal entries (20,000 runs of 50 steps, finished 40 days ago) into a
 * fresh schema, then times W3 (200 runs of 10 sequential steps, started at once) in the same
 * sitting: alone; then while `cairn.purgeRuns("30d")` deletes the seeded runs in the same
 * process, one pass with the purge going and the next with it paused (between two chunks),
 * by turns until it is done, so both halves see the same machine load; and alone again.
 * Prints steps/s of each W3 pass, the purge's duration and rate, its chunks' durations (the
 * longest a chunk's transaction held its rows), and the load average beside each phase: the
 * machine may be shared, so only figures of one sitting compare.
 * Flags: `--db <postgres url>` (default: CAIRN_TEST_PG_URL, else
 * postgres://postgres@127.0.0.1:5432/test), `--steps N` (default 1,000,000),
 * `--steps-per-run N` (default 50), `--chunk N` runs per chunk (default: the engine's).
 */
import { loadavg } from "node:os";
import postgres from "postgres";
import type { Cairn } from "../src/sdk/cairn.ts";
import { flag } from "./args.ts";
import { databaseTarget, openEngine } from "./database.ts";
import { median } from "./stats.ts";
import { sequential } from "./workflows.ts";

const w3Runs = 200;
const w3Steps = 10;

const db = flag("--db", process.env.CAIRN_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test");
const totalSteps = Number(flag("--steps", "1000000"));
const stepsPerRun = Number(flag("--steps-per-run", "50"));
const chunkText = flag("--chunk", "");
const chunkRuns = chunkText === "" ? undefined : Number(chunkText);
const runCount = Math.ceil(totalSteps / stepsPerRun);

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

/** One W3 pass: steps per second from the first start to the last result. */
async function w3Pass(cairn: Cairn): Promise<number> {
  const started = performance.now();
  const outputs = await Promise.all(
    Array.from({ length: w3Runs }, async () => {
      const run = await cairn.start(sequential, { steps: w3Steps });
      return run.result();
    }),
  );
  const wallMs = performance.now() - started;
  if (outputs.some((o) => o !== w3Steps)) throw new Error("a W3 run did not run all its steps");
  return Math.round(((w3Runs * w3Steps) / wallMs) * 1000);
}

async function w3Alone(cairn: Cairn, label: string): Promise<number> {
  const passes: number[] = [];
  for (let i = 0; i < 3; i++) passes.push(await w3Pass(cairn));
  const m = median(passes);
  console.log(
    `W3 ${label.padEnd(16)} median ${String(m).padStart(6)} steps/s  passes ${passes.join(", ")}  (load ${load()})`,
  );
  return m;
}

/** Inserts the finished runs and their journals with two set-based statements. */
async function seed(url: string): Promise<number> {
  const schema = new URL(url).searchParams.get("schema") as string;
  const base = new URL(url);
  base.searchParams.delete("schema");
  const sql = postgres(base.toString(), { max: 1, onnotice: () => {} });
  const started = performance.now();
  const finishedAt = Date.now() - 40 * 86_400_000;
  try {
    await sql`INSERT INTO ${sql(schema)}.runs
        (id, workflow, status, input, output, created_at, started_at, finished_at, updated_at)
      SELECT 'old-' || g, 'bench-sequential', 'completed', '{"json":{"steps":50}}', '{"json":50}',
        ${finishedAt}::bigint - 1000, ${finishedAt}::bigint - 1000, ${finishedAt}::bigint + g,
        ${finishedAt}::bigint + g
      FROM generate_series(1, ${runCount}::int) g`;
    await sql`INSERT INTO ${sql(schema)}.steps
        (run_id, position, key, kind, status, output, attempt, started_at, finished_at, seq)
      SELECT 'old-' || r, p, 'step-' || p, 'step', 'completed', '{"json":{"i":1,"ok":true}}', 1,
        ${finishedAt}::bigint, ${finishedAt}::bigint, p + 1
      FROM generate_series(1, ${runCount}::int) r, generate_series(0, ${stepsPerRun - 1}::int) p`;
    await sql`ANALYZE ${sql(schema)}.runs`;
    await sql`ANALYZE ${sql(schema)}.steps`;
  } finally {
    await sql.end({ timeout: 5 });
  }
  return performance.now() - started;
}

async function main(): Promise<void> {
  const target = databaseTarget(db);
  if (target.dialect !== "postgres") throw new Error("--db: this bench measures PostgreSQL.");
  try {
    const url = target.fresh("purge");
    const cairn = await openEngine(url, w3Runs);
    try {
      const seededMs = await seed(url);
      console.log(
        `${target.description}\nseeded ${runCount} finished runs, ${runCount * stepsPerRun} steps, in ${(seededMs / 1000).toFixed(1)} s (load ${load()})`,
      );
      await w3Pass(cairn); // warm-up
      const before = await w3Alone(cairn, "alone (before)");

      // The chunks' durations (how long each transaction held the rows it deleted), and a
      // gate that holds the next chunk while a pass measures W3 without the purge.
      const chunks: number[] = [];
      const store = cairn.store;
      const deleteChunk = store.deleteFinishedRuns.bind(store);
      let gate: Promise<void> | undefined;
      let openGate = () => {};
      let chunkInFlight: Promise<unknown> = Promise.resolve();
      let pausedMs = 0;
      store.deleteFinishedRuns = async (cutOff, limit) => {
        while (gate) await gate;
        const t0 = performance.now();
        const chunk = deleteChunk(cutOff, limit);
        chunkInFlight = chunk.catch(() => {});
        const deleted = await chunk;
        chunks.push(performance.now() - t0);
        return deleted;
      };
      const pause = async () => {
        gate = new Promise((resolve) => {
          openGate = resolve;
        });
        await chunkInFlight;
      };
      const resume = () => {
        gate = undefined;
        openGate();
      };
      const loadAtStart = load();
      const purgeStarted = performance.now();
      let purgeMs = 0;
      const purge = cairn
        .purgeRuns("30d", chunkRuns === undefined ? {} : { chunkRuns })
        .then((runs) => {
          purgeMs = performance.now() - purgeStarted;
          return runs;
        });
      let purging = true;
      void purge.finally(() => {
        purging = false;
      });
      const during: number[] = [];
      const paused: number[] = [];
      while (purging || during.length === 0) {
        during.push(await w3Pass(cairn));
        if (!purging) break;
        await pause();
        const t0 = performance.now();
        paused.push(await w3Pass(cairn));
        pausedMs += performance.now() - t0;
        resume();
      }
      const purged = await purge;
      const loadAtEnd = load();
      const duringMedian = median(during);
      const pausedMedian = median(paused);
      console.log(
        `W3 with purge     median ${String(duringMedian).padStart(6)} steps/s  passes ${during.join(", ")}\n` +
          `W3 purge paused   median ${String(pausedMedian).padStart(6)} steps/s  passes ${paused.join(", ")}  (load ${loadAtStart} → ${loadAtEnd})`,
      );
      const after = await w3Alone(cairn, "alone (after)");
      const sorted = [...chunks].sort((a, b) => a - b);
      const alone = median([before, after]);
      console.log(
        `purge: ${purged} runs (${purged * stepsPerRun} steps) in ${((purgeMs - pausedMs) / 1000).toFixed(1)} s while not paused = ${Math.round((purged * stepsPerRun) / ((purgeMs - pausedMs) / 1000))} steps/s; ` +
          `${chunks.length} chunks, p50 ${median(sorted).toFixed(0)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms`,
      );
      console.log(
        `W3 dip while purging: ${(100 * (1 - duringMedian / pausedMedian)).toFixed(0)}% against the interleaved paused passes (${duringMedian} vs ${pausedMedian} steps/s); ` +
          `${(100 * (1 - duringMedian / alone)).toFixed(0)}% against W3 alone before and after (${alone} steps/s)`,
      );
    } finally {
      await cairn.close();
    }
  } finally {
    await target.dispose();
  }
}

await main();
