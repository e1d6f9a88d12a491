import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";

const fixture = resolve(import.meta.dirname, "fixtures/scheduler-process.ts");
const dir = mkdtempSync(join(tmpdir(), "cairn-sched-kill-"));
const dbPath = join(dir, "cairn.db");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function spawnScheduler(): Promise<ChildProcess> {
  const child = fork(fixture, [], {
    env: { ...process.env, CAIRN_DB: `sqlite:${dbPath}` },
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("message", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`scheduler exited early (${code})`)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the scheduler under SIGKILL", () => {
  it("two schedulers, one killed every ~2 s, fire each per-second slot exactly once", async () => {
    const seed = Number(process.env.SEED ?? Date.now() % 100_000);
    let state = seed;
    const random = () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const steady = await spawnScheduler();
    let victim = await spawnScheduler();
    // A fixed number of kills, not a fixed time: on a busy machine a scheduler can take
    // seconds to start, and a time window would then hold too few kills to prove anything.
    const kills = 4;
    for (let kill = 0; kill < kills; kill++) {
      await sleep(1_000 + random() * 2_000);
      victim.kill("SIGKILL");
      await sleep(200);
      victim = await spawnScheduler();
    }
    const endedAt = Date.now();
    // The schedulers run in other processes: poll the database (bounded) until they fired
    // the slot before the one the loop ended in, instead of assuming a sleep is long enough.
    const lastSlot = () => {
      const db = new Database(dbPath, { readonly: true });
      try {
        const row = db
          .prepare("SELECT max(slot_at) AS last FROM runs WHERE workflow = 'every-second'")
          .get() as { last: number | null };
        return row.last ?? 0;
      } finally {
        db.close();
      }
    };
    const wanted = Math.floor(endedAt / 1000) * 1000 - 1000;
    const deadline = Date.now() + 30_000;
    while (lastSlot() < wanted && Date.now() < deadline) await sleep(100);
    victim.kill("SIGKILL");
    steady.kill("SIGKILL");

    const db = new Database(dbPath, { readonly: true });
    const slots = (
      db
        .prepare("SELECT slot_at FROM runs WHERE workflow = 'every-second' ORDER BY slot_at")
        .all() as {
        slot_at: number;
      }[]
    ).map((r) => r.slot_at);
    db.close();
    console.log(`scheduler kill test: seed=${seed} kills=${kills} slots=${slots.length}`);
    // One run per slot (also a unique index), and no slot skipped between the first and the
    // last one fired while the schedulers ran.
    expect(new Set(slots).size).toBe(slots.length);
    const first = slots[0] ?? 0;
    const last = slots[slots.length - 1] ?? 0;
    expect(slots).toEqual(
      Array.from({ length: (last - first) / 1000 + 1 }, (_, i) => first + i * 1000),
    );
    expect(last).toBeGreaterThanOrEqual(Math.floor(endedAt / 1000) * 1000 - 1000);
  }, 120_000);
});
