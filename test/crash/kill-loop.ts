/**
 * The order kill loop: one or more worker processes share a SQLite file; at seeded random
 * moments one of them is SIGKILLed, the file is inspected read-only, and a fresh process
 * takes its place. After the last kill the survivors run every order to completion.
 */
import { Cairn } from "../../src/index.ts";
import { checkOrders, type FinalRun, type Lifetime, SnapshotTracker } from "./check-orders.ts";
import { type DbSnapshot, inspectDb } from "./db.ts";
import { orderInput } from "./fixtures/model.ts";
import { readLedger } from "./ledger.ts";
import { Rng } from "./rng.ts";
import { type CrashChild, delay, spawnWorker } from "./spawn.ts";

export interface KillLoopOptions {
  seed: number;
  /** Worker processes alive at once. */
  workers: number;
  kills: number;
  db: string;
  ledger: string;
  leaseMs: number;
  pollMs: number;
  maxTakeoverLagMs: number;
  /** The orders are started by name from an engine without the code (admitted by the worker). */
  startsWithoutCode?: boolean;
  /** Called right after each kill with the inspected file (fail fast on corruption). */
  onKill(snapshot: DbSnapshot, where: string): void;
}

/** How far the child got: spawn → up → started, in ms. */
function progress(child: CrashChild) {
  const up = child.messages.find((m) => m.type === "up");
  const started = child.messages.find((m) => m.type === "started");
  return {
    upAfterMs: up ? up.t - child.spawnedAt : undefined,
    startLoopMs: up && started ? started.t - up.t : undefined,
  };
}

/**
 * Reads the run outputs and journals back through the public API, from a SQLite file path
 * or any database URL (`postgres://…`, used by the PostgreSQL fault tests).
 */
export async function finalRuns(dbPath: string, ids: readonly string[]) {
  const db = /^[a-z]+:\/\//.test(dbPath) ? dbPath : `sqlite:${dbPath}`;
  const cairn = await Cairn.open({ db });
  try {
    const runs = new Map<string, FinalRun>();
    for (const id of ids) {
      const info = await cairn.getRun(id).catch(() => undefined);
      if (!info) continue;
      runs.set(id, {
        id,
        status: info.status,
        output: info.output,
        error: info.error ? `${info.error.name}: ${info.error.message}` : null,
        steps: info.steps.map((s) => ({
          key: s.key,
          kind: s.kind,
          status: s.status,
          attempt: s.attempt,
        })),
      });
    }
    return runs;
  } finally {
    await cairn.close();
  }
}

export async function runKillLoop(options: KillLoopOptions) {
  const { seed, workers, kills } = options;
  const rng = new Rng(seed);
  // Which process dies when. Mostly mid-work: `after` ms once the victim's worker is up
  // (and, with several workers, after the previous kill), so that a slow start on a busy
  // machine does not turn every kill into a kill during startup. Sometimes during startup:
  // `after` ms after its spawn, wherever it got to (module loading, migration, claims).
  const schedule = Array.from({ length: kills }, () => {
    const duringStartup = rng.chance(0.15);
    return {
      slot: rng.int(0, workers - 1),
      duringStartup,
      after: duringStartup ? rng.int(20, 500) : rng.int(200, 1800),
    };
  });
  // Orders arrive over about as long as the kill phase lasts (~400 ms of startup per
  // restart), so that every kill finds some mid-flight; the survivors finish the rest.
  const runs = kills * 24 * workers;
  const windowMs = schedule.reduce(
    (sum, k) => sum + (k.duringStartup ? k.after : k.after + 400) + 100,
    0,
  );
  const t0 = Date.now() + 500;
  const base = {
    CRASH_SCENARIO: "orders",
    CRASH_DB: options.db,
    CRASH_LEDGER: options.ledger,
    CRASH_SEED: seed,
    CRASH_RUNS: runs,
    CRASH_T0: t0,
    CRASH_WINDOW_MS: windowMs,
    CRASH_LEASE_MS: options.leaseMs,
    CRASH_POLL_MS: options.pollMs,
    ...(options.startsWithoutCode ? { CRASH_STARTS_WITHOUT_CODE: "1" } : {}),
  };

  const lifetimes: Lifetime[] = [];
  const snapshots = new SnapshotTracker();
  const children: CrashChild[] = [];
  const spawnLife = () => {
    const child = spawnWorker({ ...base, CRASH_LIFE: children.length });
    children.push(child);
    lifetimes.push({ life: child.life, pid: child.pid, spawnedAt: child.spawnedAt, phase: "" });
    return child;
  };
  const slots = Array.from({ length: workers }, spawnLife);
  const started = Date.now();
  let finishedEarly = false;
  let previousKillAt = Date.now();
  for (const { slot, after, duringStartup } of schedule) {
    const victim = slots[slot];
    if (!victim) throw new Error(`no worker in slot ${slot}`);
    const killAt = async () => {
      if (duringStartup) return delay(victim.spawnedAt + after - Date.now());
      const up = await victim.waitFor("up", 60_000);
      const from = workers === 1 ? up.t : Math.max(previousKillAt, up.t);
      return delay(from + after - Date.now());
    };
    const outcome = await Promise.race([
      killAt().then(() => "kill" as const),
      ...slots.map((c) => c.exited.then(() => "exited" as const)),
    ]);
    if (outcome === "exited") {
      // Every order finished before this kill was due: nothing left to interrupt.
      finishedEarly = true;
      break;
    }
    const phase = victim.messages.at(-1)?.type ?? "spawned";
    const exit = await victim.kill();
    if (exit.code === 0 && victim.messages.some((m) => m.type === "done")) {
      // It finished every order and exited while the kill was on its way (the race above
      // saw the kill due first): nothing was interrupted, as when it exits before.
      finishedEarly = true;
      break;
    }
    if (exit.signal !== "SIGKILL") {
      throw new Error(
        `lifetime ${victim.life} exited by itself (code ${exit.code}); stderr:\n${victim.stderr()}`,
      );
    }
    const killedAt = Date.now();
    previousKillAt = killedAt;
    const snapshot = inspectDb(options.db);
    options.onKill(snapshot, `after the kill of lifetime ${victim.life} (seed ${seed})`);
    Object.assign(lifetimes[victim.life] ?? {}, {
      killedAt,
      phase,
      kill: snapshots.digest(victim.life, victim.pid, snapshot),
      ...progress(victim),
    });
    slots[slot] = spawnLife();
  }
  const killPhaseMs = Date.now() - started;

  const finalStart = Date.now();
  for (const child of slots) {
    await child.waitFor("done", 120_000);
    const exit = await child.exited;
    if (exit.code !== 0) {
      throw new Error(
        `lifetime ${child.life} exited with ${exit.code}; stderr:\n${child.stderr()}`,
      );
    }
    Object.assign(lifetimes[child.life] ?? {}, { phase: "done", ...progress(child) });
  }
  const finalPhaseMs = Date.now() - finalStart;
  // Q-K1's liveness gate: every run terminal soon after the last kill (or the last arrival).
  const doneAt = Math.max(...slots.map((c) => c.messages.find((m) => m.type === "done")?.t ?? 0));
  const settledAfterLastKillMs = doneAt - Math.max(previousKillAt, t0 + windowMs);

  snapshots.final(inspectDb(options.db));
  const ids = Array.from(
    { length: runs },
    (_, i) => orderInput(seed, i + 1, runs, t0, windowMs).id,
  );
  const final = await finalRuns(options.db, ids);
  const { violations, figures } = checkOrders({
    seed,
    runs,
    t0,
    windowMs,
    lifetimes,
    ledger: readLedger(options.ledger),
    final,
    snapshots,
    maxTakeoverLagMs: options.maxTakeoverLagMs,
    leaseMs: options.leaseMs,
  });
  const stderr = children
    .filter((c) => c.stderr().trim() !== "")
    .map((c) => `lifetime ${c.life} (pid ${c.pid}):\n${c.stderr()}`);
  return {
    violations,
    figures: {
      workers,
      ...figures,
      finishedEarly,
      killPhaseMs,
      finalPhaseMs,
      settledAfterLastKillMs,
    },
    stderr,
  };
}
