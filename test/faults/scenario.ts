/**
 * One fault scenario on the fault tests' PostgreSQL server: worker processes (real child
 * processes, `fixtures/worker.ts`) share a fresh schema; the harness feeds them a seeded
 * load (`load.ts`) while a nemesis injects faults (SIGKILL of workers, PostgreSQL restarts,
 * SIGSTOP of PostgreSQL or of a worker); then everything settles, every worker is sent
 * SIGTERM and must exit 0, and the outcome is judged: by the crash tests' order checker
 * (ledger, lease records, snapshots after each fault) and by `verdict.ts` (journal
 * uniqueness, acknowledged starts, timers, events, throughput).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Cairn } from "../../src/index.ts";
import {
  checkOrders,
  type FinalRun,
  type Lifetime,
  SnapshotTracker,
} from "../crash/check-orders.ts";
import { finalRuns } from "../crash/kill-loop.ts";
import { type LedgerRecord, readLedger } from "../crash/ledger.ts";
import { Rng } from "../crash/rng.ts";
import {
  type ChildMessage,
  type CrashChild,
  delay,
  type Exit,
  spawnWorker,
} from "../crash/spawn.ts";
import type { Violations } from "../crash/stats.ts";
import { Feeder, type LoadOptions, planLoad } from "./load.ts";
import { type Inspector, inspector } from "./pg-inspect.ts";
import type { FaultPostgres } from "./pg-server.ts";
import { judgeLoad } from "./verdict.ts";

const workerScript = fileURLToPath(new URL("./fixtures/worker.ts", import.meta.url));

export interface ScenarioOptions extends LoadOptions {
  /** Short name, for the log lines and the schema. */
  name: string;
  pg: FaultPostgres;
  workers: number;
  leaseMs: number;
  pollMs: number;
  /** Runs a worker executes at once. (Default: 50) */
  concurrency?: number;
  /** How long a probe's `hold` step takes. (Default: 3000) */
  holdMs?: number;
  /** Everything must be terminal this long after the last fault or arrival. */
  settleTimeoutMs: number;
  /** A run whose owner died must be claimed within this long of its lease expiring. */
  maxTakeoverLagMs: number;
  /**
   * The server URL the workers connect to, when not `pg.url` (a `NetProxy` in between); the
   * harness always connects directly.
   */
  workerUrl?: string;
  /** Extra environment of the worker in `slot` (e.g. `CAIRN_CLOCK_OFFSET_MS`). */
  workerEnv?: (slot: number) => Record<string, string | number>;
  /** The faults; runs from just before t0, alongside the load. */
  nemesis(context: ScenarioContext): Promise<void>;
}

/** What the nemesis can do and see. */
export interface ScenarioContext {
  readonly rng: Rng;
  readonly t0: number;
  readonly windowMs: number;
  readonly pg: FaultPostgres;
  readonly inspect: Inspector;
  /** The harness's own engine instance (no worker): starts runs, creates schedules. */
  readonly harness: Cairn;
  /** The live worker of each slot. */
  readonly slots: CrashChild[];
  /** SIGKILLs the worker of `slot` (checking it was alive), digests a snapshot, respawns after `respawnAfterMs`. */
  kill(slot: number, respawnAfterMs: number): Promise<void>;
  /** Takes a snapshot into the durability tracker (what it shows must survive). */
  checkpoint(): Promise<void>;
  /** Records a window in which the database was unreachable. */
  outage(from: number, to: number): void;
  /** How long after `at` the first step effect and the first durable release were seen. */
  progressAfter(at: number, timeoutMs: number): Promise<{ effectMs: number; commitMs: number }>;
  /** The ledger so far (tolerating a record being written). */
  ledger(): LedgerRecord[];
  /** Fault log (printed): one line per fault with its wall time. */
  log(fault: Record<string, unknown>): void;
}

export interface ScenarioResult {
  violations: Violations;
  figures: Record<string, unknown>;
  /** Non-empty stderr of any worker: crashes, unhandled rejections. */
  stderr: string[];
  /** Every worker lifetime's messages of these types (fenced, lease-lost, engine-error). */
  messages: (type: string) => ChildMessage[];
  ledger: LedgerRecord[];
  lifetimes: Lifetime[];
  faults: Record<string, unknown>[];
  /** Every run's final state (output, journal) through the public API. */
  final: Map<string, FinalRun>;
  /** Kept (and printed) when the test fails. */
  dir: string;
}

export async function runScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const rng = new Rng(o.seed);
  const dir = mkdtempSync(join(tmpdir(), `cairn-faults-${o.name}-`));
  const ledgerPath = join(dir, "ledger.jsonl");
  const schema = `faults_${o.name.replace(/\W/g, "_")}_${randomBytes(4).toString("hex")}`;
  const db = `${o.pg.url}?schema=${schema}`;
  const snapshots = new SnapshotTracker();
  // The order checker adds its findings to the tracker's list: one list for everything.
  const violations = snapshots.violations;
  const faults: Record<string, unknown>[] = [];
  const outages: { from: number; to: number }[] = [];

  // The harness's own engine instance (no worker): it migrates the schema, starts the runs
  // and sends the events.
  const harness = await Cairn.open({ db, leaseMs: o.leaseMs, pollMs: o.pollMs });
  const inspect = await inspector(o.pg.url, schema);

  const lifetimes: Lifetime[] = [];
  const children: CrashChild[] = [];
  /** Workers the harness killed or stopped: any other death is a crash. */
  const expectedDeaths = new Set<CrashChild>();
  const spawnLife = (slot: number) => {
    const child = spawnWorker(
      {
        ...o.workerEnv?.(slot),
        CRASH_DB: `${o.workerUrl ?? o.pg.url}?schema=${schema}`,
        CRASH_LEDGER: ledgerPath,
        CRASH_SEED: o.seed,
        CRASH_LIFE: children.length,
        CRASH_LEASE_MS: o.leaseMs,
        CRASH_POLL_MS: o.pollMs,
        CRASH_CONCURRENCY: o.concurrency ?? 50,
        CRASH_HOLD_MS: o.holdMs ?? 3000,
      },
      workerScript,
    );
    children.push(child);
    lifetimes.push({ life: child.life, pid: child.pid, spawnedAt: child.spawnedAt, phase: "" });
    return child;
  };

  /**
   * Marks a lifetime dead at `at` with the database as it is now (for the checker),
   * waiting for the database if it is restarting.
   */
  const buried = async (child: CrashChild, at: number, phase: string) => {
    Object.assign(lifetimes[child.life] ?? {}, { killedAt: at, phase });
    for (let attempt = 1; ; attempt++) {
      try {
        const snapshot = await inspect.snapshot();
        Object.assign(lifetimes[child.life] ?? {}, {
          kill: snapshots.digest(child.life, child.pid, snapshot),
        });
        return;
      } catch (error) {
        if (attempt >= 100) throw error;
        await delay(200);
      }
    }
  };

  const slots: CrashChild[] = [];
  let watching = true;
  /** A worker that dies by itself is a crash: reported, and replaced so the load goes on. */
  const watch = (slot: number, child: CrashChild) => {
    void child.exited.then(async (exit) => {
      if (expectedDeaths.has(child) || !watching) return;
      expectedDeaths.add(child);
      const at = Date.now();
      violations.add(
        `lifetime ${child.life} (pid ${child.pid}) died by itself (${exit.code ?? exit.signal}): ${child.stderr().slice(0, 2000)}`,
      );
      faults.push({ t: at - t0, fault: "crash", life: child.life });
      if (slots[slot] === child) {
        slots[slot] = spawnLife(slot);
        watch(slot, slots[slot]);
      }
      await buried(child, at, "crashed").catch((error) => {
        violations.add(`lifetime ${child.life}: no snapshot after its crash: ${error}`);
      });
    });
  };
  let t0 = Date.now();
  let debug: NodeJS.Timeout | undefined;

  try {
    for (let slot = 0; slot < o.workers; slot++) {
      slots.push(spawnLife(slot));
      watch(slot, slots[slot] as CrashChild);
    }
    await Promise.all(slots.map((c) => c.waitFor("up", 60_000)));
    t0 = Date.now() + 500;

    // ---- the load ----
    const plan = planLoad(o, t0);
    const feeder = new Feeder(plan);
    // FAULTS_DEBUG=1 prints where the harness is every 5 s (for a scenario that hangs);
    // FAULTS_DEBUG=250, every 250 ms.
    let phase = "load";
    debug = process.env.FAULTS_DEBUG
      ? setInterval(
          () => {
            console.log(`[faults/${o.name}] +${Date.now() - t0} ms: ${phase} ${feeder.doing}`);
          },
          Number(process.env.FAULTS_DEBUG) > 1 ? Number(process.env.FAULTS_DEBUG) : 5000,
        )
      : undefined;

    // ---- the nemesis ----
    const context: ScenarioContext = {
      rng,
      t0,
      windowMs: o.windowMs,
      pg: o.pg,
      inspect,
      harness,
      slots,
      async kill(slot, respawnAfterMs) {
        const victim = slots[slot];
        if (!victim) throw new Error(`no worker in slot ${slot}`);
        if (victim.dead) return; // it crashed by itself: the watcher replaces it
        const phase = victim.messages.some((m) => m.type === "up") ? "up" : "spawned";
        expectedDeaths.add(victim);
        const exit = await victim.kill();
        if (exit.signal !== "SIGKILL") {
          violations.add(
            `lifetime ${victim.life} exited by itself (${exit.code}) before the kill; stderr:\n${victim.stderr()}`,
          );
        }
        await buried(victim, Date.now(), phase);
        context.log({ fault: "sigkill", life: victim.life, pid: victim.pid, phase });
        await delay(respawnAfterMs);
        slots[slot] = spawnLife(slot);
        watch(slot, slots[slot] as CrashChild);
      },
      async checkpoint() {
        snapshots.digest(-1, -1, await inspect.snapshot());
      },
      outage(from, to) {
        outages.push({ from, to });
      },
      async progressAfter(at, timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        let effectAt: number | undefined;
        let commitAt: number | undefined;
        for (;;) {
          for (const r of context.ledger()) {
            if (r.t <= at) continue;
            if (r.type === "effect") effectAt = Math.min(effectAt ?? r.t, r.t);
            if (r.type === "release") commitAt = Math.min(commitAt ?? r.t, r.t);
          }
          if ((effectAt !== undefined && commitAt !== undefined) || Date.now() > deadline) {
            return {
              effectMs: effectAt === undefined ? Number.POSITIVE_INFINITY : effectAt - at,
              commitMs: commitAt === undefined ? Number.POSITIVE_INFINITY : commitAt - at,
            };
          }
          await delay(50);
        }
      },
      ledger: () => readLedger(ledgerPath, { partialTail: true }),
      log(fault) {
        faults.push({ t: Date.now() - t0, ...fault });
      },
    };
    const nemesis = o.nemesis(context).then(() => {
      nemesisEndedAt = Date.now();
      phase = "load (nemesis done)";
    });
    let nemesisEndedAt = 0;
    const feeding = feeder
      .run(harness, inspect, t0 + o.windowMs + o.settleTimeoutMs)
      .then(async (finished) => {
        if (finished) return;
        const late = [...feeder.unacknowledged(), ...feeder.unsent()];
        const states = await inspect.sql`SELECT id, status, lease_owner, available_at FROM runs
            WHERE id = ANY(${late})`.catch(() => []);
        violations.add(
          `the load never finished: not started ${JSON.stringify(feeder.unacknowledged())}, events not sent (no wait seen) ${JSON.stringify(feeder.unsent())}; runs ${JSON.stringify(states)}`,
        );
      });
    await Promise.all([feeding, nemesis]);

    // ---- quiescence ----
    phase = "settling";
    const lastArrival = t0 + o.windowMs;
    const settleFrom = Math.max(nemesisEndedAt, lastArrival);
    const settle = async () => {
      let unfinished = await inspect.unfinished();
      while (unfinished > 0 && Date.now() < settleFrom + o.settleTimeoutMs) {
        await delay(200);
        unfinished = await inspect.unfinished();
      }
      return unfinished;
    };
    const unfinished = await settle();
    const settledAt = Date.now();
    if (unfinished > 0) {
      const stuck = await inspect.sql`SELECT id, status, lease_owner, available_at FROM runs
        WHERE status NOT IN ('completed', 'failed', 'cancelled') ORDER BY id LIMIT 10`;
      violations.add(
        `${unfinished} runs not finished ${o.settleTimeoutMs} ms after the last fault or arrival, e.g. ${JSON.stringify(stuck)}`,
      );
    }

    // ---- shutdown: SIGTERM, a clean exit 0 ----
    phase = "shutdown";
    watching = false;
    const exits = await Promise.all(
      slots.map(async (child): Promise<Exit | "timeout"> => {
        expectedDeaths.add(child);
        // A worker respawned just now may still be starting: its SIGTERM handler (the
        // graceful shutdown under test) exists once it says `up`.
        if (!child.dead) await child.waitFor("up", 60_000).catch(() => {});
        if (!child.dead) process.kill(child.pid, "SIGTERM");
        const timeout = delay(30_000).then(() => "timeout" as const);
        return Promise.race([child.exited, timeout]);
      }),
    );
    for (const [i, exit] of exits.entries()) {
      const child = slots[i];
      if (!child) continue;
      Object.assign(lifetimes[child.life] ?? {}, { phase: "done" });
      if (exit !== "timeout" && exit.code === 0) continue;
      violations.add(
        `lifetime ${child.life} (pid ${child.pid}) did not exit 0 after SIGTERM: ${JSON.stringify(exit)}; its last messages: ${JSON.stringify(child.messages.slice(-4))}`,
      );
    }
    writeFileSync(
      join(dir, "children.json"),
      JSON.stringify(
        children.map((c) => ({
          life: c.life,
          pid: c.pid,
          stderr: c.stderr(),
          messages: c.messages,
        })),
      ),
    );

    // ---- the verdict ----
    phase = "verdict";
    for (const child of children) {
      const up = child.messages.find((m) => m.type === "up");
      if (up) Object.assign(lifetimes[child.life] ?? {}, { upAfterMs: up.t - child.spawnedAt });
    }
    const ledger = readLedger(ledgerPath);
    snapshots.final(await inspect.snapshot());
    const final = await finalRuns(
      db,
      plan.items.map((item) => item.id),
    );
    const orderIds = new Set(plan.items.filter((i) => i.id.startsWith("order-")).map((i) => i.id));
    const { figures: orderFigures } = checkOrders({
      seed: o.seed,
      runs: o.orders,
      t0,
      windowMs: o.windowMs,
      lifetimes,
      // The order checker judges the orders' effects; every lease record stays in.
      ledger: ledger.filter((r) => r.type !== "effect" || orderIds.has(r.run)),
      final,
      snapshots,
      maxTakeoverLagMs: o.maxTakeoverLagMs,
      // Each worker's clock follows PostgreSQL's by an offset measured over a loopback round
      // trip (seen: a claim 1 ms before the owner's lease end, by their two clocks).
      clockToleranceMs: 25,
      leaseMs: o.leaseMs,
      outages,
    });
    const loadFigures = await judgeLoad(violations, {
      inspect,
      ledger,
      final,
      items: plan.items,
      payments: plan.payments,
      sleeps: o.sleeps,
      t0,
      end: lastArrival,
      outages,
    });

    const messages = (type: string): ChildMessage[] =>
      children.flatMap((c) => c.messages.filter((m) => m.type === type));
    const engineErrors = new Map<string, number>();
    for (const m of messages("engine-error")) {
      const key = String(m.context).replace(/run \S+/, "run …");
      engineErrors.set(key, (engineErrors.get(key) ?? 0) + 1);
    }
    const stderr = children
      .filter((c) => c.stderr().trim() !== "")
      .map((c) => `lifetime ${c.life} (pid ${c.pid}):\n${c.stderr()}`);

    const figures = {
      ...orderFigures,
      workers: o.workers,
      orders: o.orders,
      runs: plan.items.length,
      outages: outages.map((x) => x.to - x.from),
      ...loadFigures,
      fenced: messages("fenced").length,
      leasesLost: messages("lease-lost").length,
      engineErrors: Object.fromEntries(engineErrors),
      harnessErrors: feeder.errors,
      settleMs: settledAt - settleFrom,
      totalMs: Date.now() - (t0 - 500),
    };
    return {
      violations,
      figures,
      stderr,
      messages,
      ledger,
      lifetimes,
      faults,
      final,
      dir,
    };
  } finally {
    clearInterval(debug);
    await harness.close().catch(() => {});
    await inspect.close().catch(() => {});
  }
}

/** Removes the scenario's files (kept and printed when it failed). */
export function cleanup(dir: string, passed: boolean, name: string): void {
  if (passed) rmSync(dir, { recursive: true, force: true });
  else console.log(`[faults/${name}] files kept in ${dir}`);
}
