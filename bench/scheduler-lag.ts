/**
 * Scheduler lag: 1,000 schedules due in the same second. Measures, for one slot, how long
 * after the slot time each schedule's run was created and started.
 *
 *   npx tsx bench/scheduler-lag.ts [--db sqlite:/tmp/x.db | postgres://…]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { Cairn, defineWorkflow } from "../src/index.ts";

const i = process.argv.indexOf("--db");
const dir = mkdtempSync(join(tmpdir(), "cairn-lag-"));
const db = i >= 0 ? (process.argv[i + 1] as string) : `sqlite:${join(dir, "lag.db")}`;
const schedules = 1_000;

const tick = defineWorkflow({ name: "lag-tick" }, async (ctx) => ctx.step("noop", () => 1));
const cairn = await Cairn.open({ db, workflows: [tick] });
await cairn.worker({ concurrency: 200 });
// One slot, the same second for all: a cron naming that second exactly (UTC).
const slot = Math.ceil(Date.now() / 1000) * 1000 + 15_000;
const at = new Date(slot);
const cron = `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} *`;
for (let n = 0; n < schedules; n++) {
  await cairn.schedules.create({ id: `lag-${n}`, workflow: "lag-tick", cron, catchup: "all" });
}
if (Date.now() > slot - 2_000)
  throw new Error("creating the schedules took too long; raise the lead time");
await new Promise((r) => setTimeout(r, slot - Date.now() + 5_000));
const runs = (await cairn.listRuns({ workflow: "lag-tick", limit: 1000 })).filter(
  (r) => r.slotAt === slot,
);
const created = runs.map((r) => r.createdAt - slot).sort((a, b) => a - b);
const started = runs
  .filter((r) => r.startedAt !== null)
  .map((r) => (r.startedAt ?? 0) - slot)
  .sort((a, b) => a - b);
const pct = (xs: number[], p: number) =>
  xs[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))] ?? null;
const result = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  db: db.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@").replace(/^sqlite:.*/, "sqlite (temp file)"),
  schedules,
  slot: new Date(slot).toISOString(),
  runsForSlot: runs.length,
  createdLagMs: { p50: pct(created, 0.5), p99: pct(created, 0.99), max: created.at(-1) ?? null },
  startedLagMs: { p50: pct(started, 0.5), p99: pct(started, 0.99), max: started.at(-1) ?? null },
};
console.log(JSON.stringify(result, null, 2));
writeFileSync(
  new URL(
    `./results/scheduler-lag-${db.startsWith("postgres") ? "postgres" : "sqlite"}.json`,
    import.meta.url,
  ),
  `${JSON.stringify(result, null, 2)}\n`,
);
await cairn.close();
rmSync(dir, { recursive: true, force: true });
