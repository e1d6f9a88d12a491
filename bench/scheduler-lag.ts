/**
 * W7 scheduler lag: 1,000 schedules due in the same second. Measures, for one slot, how long
 * after the slot time each schedule's run was created, became visible to workers (its
 * creating transaction committed) and started. Part of `npm run bench` (W7); also alone:
 *
 *   npx tsx bench/scheduler-lag.ts [--db sqlite:/tmp/x.db | postgres://…]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Cairn, defineWorkflow } from "../src/index.ts";
import { percentile } from "./stats.ts";

export interface Lag {
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export interface SchedulerLagResult {
  schedules: number;
  /** The slot all schedules shared (ISO). */
  slot: string;
  runsForSlot: number;
  /** The runs' `createdAt`: the clock of the scheduler pass that created them. */
  createdLagMs: Lag;
  /** When the engine reported each run created, after its transaction committed. */
  committedLagMs: Lag;
  startedLagMs: Lag;
}

const tick = defineWorkflow({ name: "lag-tick" }, async (ctx) => ctx.step("noop", () => 1));

/** Time to create the schedules before their shared slot (1,000 take ≈ 1–3 s here). */
const leadMs = 10_000;

export async function schedulerLag(db: string, schedules = 1_000): Promise<SchedulerLagResult> {
  const cairn = await Cairn.open({ db, workflows: [tick], sqlite: { synchronous: "FULL" } });
  try {
    await cairn.worker({ concurrency: 200 });
    // One slot, the same second for all: a cron naming that second exactly (UTC).
    const slot = Math.ceil((Date.now() + leadMs) / 1000) * 1000;
    const at = new Date(slot);
    const cron = `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} *`;
    const ids = Array.from({ length: schedules }, (_, n) => `lag-${n}`);
    for (let n = 0; n < ids.length; n += 25) {
      await Promise.all(
        ids
          .slice(n, n + 25)
          .map((id) => cairn.schedules.create({ id, workflow: "lag-tick", cron, catchup: "all" })),
      );
    }
    if (Date.now() > slot - 1_000) {
      throw new Error("creating the schedules took too long; raise the lead time");
    }
    const committed: number[] = [];
    let finished = 0;
    let allFinished = (): void => {};
    const done = new Promise<void>((resolve) => {
      allFinished = resolve;
    });
    const stop = cairn.subscribe((e) => {
      if (e.type !== "run" || e.workflow !== "lag-tick") return;
      if (e.reason === "created") committed.push(Date.now() - slot);
      if (e.status === "completed" && ++finished === schedules) allFinished();
    });
    const deadline = new Promise<void>((resolve) =>
      setTimeout(resolve, slot - Date.now() + 30_000),
    );
    await Promise.race([done, deadline]);
    stop();
    const runs = (await cairn.listRuns({ workflow: "lag-tick", limit: schedules * 2 })).filter(
      (r) => r.slotAt === slot,
    );
    const started = runs.filter((r) => r.startedAt !== null).map((r) => (r.startedAt ?? 0) - slot);
    return {
      schedules,
      slot: at.toISOString(),
      runsForSlot: runs.length,
      createdLagMs: lag(runs.map((r) => r.createdAt - slot)),
      committedLagMs: lag(committed),
      startedLagMs: lag(started),
    };
  } finally {
    await cairn.close();
  }
}

function lag(values: number[]): Lag {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: sorted.length ? percentile(sorted, 50) : null,
    p99: sorted.length ? percentile(sorted, 99) : null,
    max: sorted.at(-1) ?? null,
  };
}

async function main(): Promise<void> {
  const i = process.argv.indexOf("--db");
  const dir = mkdtempSync(join(tmpdir(), "cairn-lag-"));
  const db = i >= 0 ? (process.argv[i + 1] as string) : `sqlite:${join(dir, "lag.db")}`;
  try {
    const result = {
      date: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
      db: db
        .replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@")
        .replace(/^sqlite:.*/, "sqlite (temp file)"),
      ...(await schedulerLag(db)),
    };
    console.log(JSON.stringify(result, null, 2));
    const kind = db.startsWith("postgres") ? "postgres" : "sqlite";
    writeFileSync(
      new URL(`./results/scheduler-lag-${kind}.json`, import.meta.url),
      `${JSON.stringify(result, null, 2)}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
