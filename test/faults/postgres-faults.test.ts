/**
 * PostgreSQL fault tests with real processes: worker processes on
 * a PostgreSQL server of these tests' own (`pg-server.ts`: restarting or freezing it
 * disturbs no other test), a seeded load of orders, sleeps and event waits fed by the
 * harness, and one fault each:
 * - Q-K1: SIGKILL of a random worker every 1-3 s, respawned;
 * - Q-P1: `pg_ctl restart -m immediate`, twice;
 * - Q-N1: the network between the workers and PostgreSQL cut (a blackholing TCP proxy),
 *   then every PostgreSQL process SIGSTOPped, 5 s each;
 * - Q-N2: every PostgreSQL process SIGSTOPped for 3 leases;
 * - Q-S1: one worker's clock 10 min fast and the other's 10 min slow, with a cron schedule
 *   firing every second;
 * - Q-L3: a worker holding leases SIGSTOPped for 2.5 leases (a zombie).
 * Every test prints its seed (replay the schedule with `SEED=…`; process timing is the
 * machine's) and its figures, and is judged by the crash tests' checker plus the
 * scenario's own gates (see `scenario.ts`): safety strictly, liveness with generous bounds.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { effects } from "../crash/ledger.ts";
import { seedFromEnv } from "../crash/rng.ts";
import { delay, killAll } from "../crash/spawn.ts";
import type { ProbeOutput } from "./fixtures/workflows.ts";
import { NetProxy } from "./netproxy.ts";
import { type FaultPostgres, startFaultPostgres } from "./pg-server.ts";
import { cleanup, runScenario, type ScenarioResult } from "./scenario.ts";

const LEASE_MS = 2000;
const POLL_MS = 200;
/** Everything terminal within this long after the last fault or arrival (liveness, generous). */
const SETTLE_MS = 45_000;
/** A run whose owner died is claimed within this long of its lease expiring (generous). */
const MAX_TAKEOVER_LAG_MS = 10_000;
/** Q-P1 / Q-N2: durable progress within this long of the database answering again. */
const MAX_RESUME_MS = 5000;

let pg: FaultPostgres | undefined;

beforeAll(async () => {
  pg = await startFaultPostgres();
}, 120_000);

afterEach(async () => {
  pg?.resume();
  await killAll();
});

afterAll(async () => {
  await pg?.stop();
});

function server(): FaultPostgres {
  if (!pg) throw new Error("the fault tests' PostgreSQL did not start");
  return pg;
}

/** The common verdict: no violation, no crash output, the figures printed. */
function report(name: string, result: ScenarioResult, extra: Record<string, unknown> = {}) {
  console.log(`[faults/${name}] ${JSON.stringify({ ...result.figures, ...extra })}`);
  console.log(`[faults/${name}] faults ${JSON.stringify(result.faults)}`);
  if (result.stderr.length > 0) {
    console.log(`[faults/${name}] worker stderr:\n${result.stderr.join("\n")}`);
  }
  const seed = result.figures.seed;
  expect(result.violations.count, `seed ${seed}: ${result.violations.report()}`).toBe(0);
  expect(result.stderr, `seed ${seed}: a worker crashed or printed errors`).toEqual([]);
  expect(result.figures.journalDuplicates).toBe(0);
  expect(result.figures.earlyTimers).toBe(0);
  expect(result.figures.eventsBeforeWait, "events sent before their wait").toBeGreaterThan(0);
  expect(result.figures.eventsAfterWait, "events sent after their wait began").toBeGreaterThan(0);
}

/** Step effects in the `ms` before and after a moment: throughput around a fault. */
function around(result: ScenarioResult, before: number, after: number, ms: number) {
  const all = effects(result.ledger);
  return {
    before: all.filter((e) => e.t >= before - ms && e.t < before).length,
    after: all.filter((e) => e.t >= after && e.t < after + ms).length,
  };
}

describe.sequential("PostgreSQL faults (own server, real worker processes)", () => {
  it("Q-K1: three workers, one SIGKILLed every 1-3 s for 20 s: nothing lost, nothing recorded twice", async () => {
    const seed = seedFromEnv();
    console.log(`[faults/k1] seed=${seed} (replay: SEED=${seed})`);
    const result = await runScenario({
      name: "k1",
      seed,
      pg: server(),
      workers: 3,
      orders: 240,
      sleeps: 30,
      payments: 30,
      windowMs: 20_000,
      leaseMs: LEASE_MS,
      pollMs: POLL_MS,
      settleTimeoutMs: SETTLE_MS,
      maxTakeoverLagMs: MAX_TAKEOVER_LAG_MS,
      async nemesis(c) {
        const until = c.t0 + c.windowMs;
        for (;;) {
          const wait = c.rng.int(1000, 3000);
          if (Date.now() + wait > until) break;
          await delay(wait);
          await c.kill(c.rng.int(0, c.slots.length - 1), c.rng.int(0, 500));
        }
      },
    });
    let passed = false;
    try {
      report("k1", result);
      const f = result.figures;
      expect(f.kills, "kills").toBeGreaterThanOrEqual(5);
      expect(f.killsInterruptingRuns, "kills that found runs in flight").toBeGreaterThan(0);
      expect(f.lost).toBe(0);
      // Throughput during the chaos never dropped to zero.
      expect(Math.min(...(f.effectsPer5s as number[]))).toBeGreaterThan(0);
      passed = true;
    } finally {
      cleanup(result.dir, passed, "k1");
    }
  }, 240_000);

  it("Q-P1: PostgreSQL restarted with `-m immediate` twice mid-load: no crash, nothing lost, prompt resume", async () => {
    const seed = seedFromEnv();
    console.log(`[faults/p1] seed=${seed} (replay: SEED=${seed})`);
    const restarts: {
      at: number;
      stoppedAt: number;
      readyAt: number;
      effectMs: number;
      commitMs: number;
    }[] = [];
    const result = await runScenario({
      name: "p1",
      seed,
      pg: server(),
      workers: 2,
      orders: 200,
      sleeps: 30,
      payments: 30,
      windowMs: 20_000,
      leaseMs: LEASE_MS,
      pollMs: POLL_MS,
      settleTimeoutMs: SETTLE_MS,
      maxTakeoverLagMs: MAX_TAKEOVER_LAG_MS,
      async nemesis(c) {
        for (const at of [c.t0 + c.rng.int(5000, 7000), c.t0 + c.rng.int(13_000, 15_000)]) {
          await delay(at - Date.now());
          await c.checkpoint();
          const { stoppedAt, readyAt } = await c.pg.restartImmediate();
          c.outage(stoppedAt, readyAt);
          const progress = await c.progressAfter(readyAt, 30_000);
          restarts.push({ at: at - c.t0, stoppedAt, readyAt, ...progress });
          c.log({ fault: "restart-immediate", downMs: readyAt - stoppedAt, ...progress });
          await c.checkpoint();
        }
      },
    });
    let passed = false;
    try {
      const recovery = restarts.map((r) => ({
        downMs: r.readyAt - r.stoppedAt,
        firstEffectMs: r.effectMs,
        firstCommitMs: r.commitMs,
        effects5s: around(result, r.stoppedAt, r.readyAt, 5000),
      }));
      report("p1", result, { restarts: recovery });
      expect(restarts).toHaveLength(2);
      for (const r of recovery) {
        expect(r.firstCommitMs, "durable progress after the restart").toBeLessThanOrEqual(
          MAX_RESUME_MS,
        );
        // Throughput back to >= 80 % of before within 5 s.
        expect(r.effects5s.after, "steps in the 5 s after vs before").toBeGreaterThanOrEqual(
          0.8 * r.effects5s.before,
        );
      }
      passed = true;
    } finally {
      cleanup(result.dir, passed, "p1");
    }
  }, 240_000);

  it("Q-N1: the network to PostgreSQL cut for 5 s, then PostgreSQL SIGSTOPped for 5 s: no crash, nothing lost, prompt resume", async () => {
    const seed = seedFromEnv();
    console.log(`[faults/n1] seed=${seed} (replay: SEED=${seed})`);
    const pg = server();
    // The workers reach PostgreSQL through the proxy; the harness (starts, events, checks) directly.
    const proxy = await NetProxy.start({ host: "127.0.0.1", port: pg.port });
    const cutMs = 5000;
    const cuts: { kind: string; from: number; to: number; effectMs: number; commitMs: number }[] =
      [];
    try {
      const result = await runScenario({
        name: "n1",
        seed,
        pg,
        workerUrl: pg.url.replace(`:${pg.port}/`, `:${proxy.port}/`),
        workers: 2,
        orders: 300,
        sleeps: 30,
        payments: 30,
        windowMs: 30_000,
        leaseMs: LEASE_MS,
        pollMs: POLL_MS,
        settleTimeoutMs: SETTLE_MS,
        maxTakeoverLagMs: MAX_TAKEOVER_LAG_MS,
        async nemesis(c) {
          const faults = [
            {
              kind: "net-blackhole",
              at: c.t0 + c.rng.int(4000, 5000),
              cut: () => proxy.blackhole(),
              heal: () => proxy.pass(),
            },
            {
              kind: "sigstop-postgres",
              // Late enough that the 5 s before it are past the first cut's catch-up burst,
              // early enough that the load still arrives in the 5 s after it.
              at: c.t0 + c.rng.int(18_000, 19_000),
              cut: () => void c.pg.pause(),
              heal: () => c.pg.resume(),
            },
          ];
          for (const fault of faults) {
            await delay(fault.at - Date.now());
            await c.checkpoint();
            const from = Date.now();
            fault.cut();
            await delay(cutMs);
            fault.heal();
            const to = Date.now();
            c.outage(from, to);
            const progress = await c.progressAfter(to, 30_000);
            cuts.push({ kind: fault.kind, from, to, ...progress });
            c.log({
              fault: fault.kind,
              ms: to - from,
              connections: proxy.connections,
              ...progress,
            });
            await c.checkpoint();
          }
        },
      });
      let passed = false;
      try {
        const recovery = cuts.map((cut) => ({
          kind: cut.kind,
          ms: cut.to - cut.from,
          firstEffectMs: cut.effectMs,
          firstCommitMs: cut.commitMs,
          effects5s: around(result, cut.from, cut.to, 5000),
        }));
        report("n1", result, { cuts: recovery });
        expect(cuts.map((cut) => cut.kind)).toEqual(["net-blackhole", "sigstop-postgres"]);
        expect(result.figures.lost).toBe(0);
        for (const r of recovery) {
          expect(r.firstCommitMs, `${r.kind}: durable progress after it`).toBeLessThanOrEqual(
            MAX_RESUME_MS,
          );
          // Throughput back to >= 80 % of before within 5 s of the cut's end.
          expect(
            r.effects5s.after,
            `${r.kind}: steps in the 5 s after vs before`,
          ).toBeGreaterThanOrEqual(0.8 * r.effects5s.before);
        }
        passed = true;
      } finally {
        cleanup(result.dir, passed, "n1");
      }
    } finally {
      await proxy.close();
    }
  }, 240_000);

  it("Q-S1: one worker's clock 10 min fast, the other's 10 min slow: no early timer, no lease stolen, one cron run per slot", async () => {
    const seed = seedFromEnv();
    console.log(`[faults/s1] seed=${seed} (replay: SEED=${seed})`);
    const skewMs = 10 * 60_000;
    let cron: { slots: number[]; early: unknown[]; unfinished: number } | undefined;
    const result = await runScenario({
      name: "s1",
      seed,
      pg: server(),
      workerEnv: (slot) => ({ CAIRN_CLOCK_OFFSET_MS: slot === 0 ? skewMs : -skewMs }),
      workers: 2,
      orders: 150,
      sleeps: 40,
      payments: 30,
      windowMs: 15_000,
      leaseMs: LEASE_MS,
      pollMs: POLL_MS,
      settleTimeoutMs: SETTLE_MS,
      maxTakeoverLagMs: MAX_TAKEOVER_LAG_MS,
      async nemesis(c) {
        await c.harness.schedules.create({
          id: "every-second",
          workflow: "tick",
          cron: "* * * * * *",
          overlap: "allow",
          catchup: "all",
        });
        await delay(c.t0 + c.windowMs - Date.now());
        await c.harness.schedules.pause("every-second");
        await delay(3000); // the last slots' runs finish
        const rows = await c.inspect.sql`SELECT slot_at, created_at, status, output FROM runs
          WHERE schedule_id = 'every-second' ORDER BY slot_at`;
        cron = {
          slots: rows.map((r) => Number(r.slot_at)),
          // A slot's run created before the slot began (by the database's clock) fired early.
          early: rows.filter((r) => Number(r.created_at) < Number(r.slot_at)),
          unfinished: rows.filter((r) => r.status !== "completed").length,
        };
      },
    });
    let passed = false;
    try {
      const fired = cron;
      if (!fired) throw new Error("the schedule did not run");
      const gaps = fired.slots.slice(1).map((slot, i) => slot - (fired.slots[i] ?? 0));
      report("s1", result, {
        skewMs,
        cron: {
          runs: fired.slots.length,
          early: fired.early.length,
          unfinished: fired.unfinished,
          gapsOtherThan1s: gaps.filter((g) => g !== 1000),
        },
      });
      // Every comparison is made on the database's clock: nothing fires early, no lease
      // looks expired to the fast worker while its owner renews it.
      expect(result.figures.takeovers, "runs taken over (no worker died)").toBe(0);
      expect(result.figures.fenced, "writes fenced").toBe(0);
      expect(fired.early).toEqual([]);
      // One run per slot, no slot skipped, across both skewed schedulers.
      expect(fired.slots.length).toBeGreaterThanOrEqual(12);
      expect(gaps.filter((g) => g !== 1000)).toEqual([]);
      expect(fired.unfinished).toBe(0);
      passed = true;
    } finally {
      cleanup(result.dir, passed, "s1");
    }
  }, 240_000);

  it("Q-N2: every PostgreSQL process SIGSTOPped for 3 leases mid-load: no duplicate result, no crash", async () => {
    const seed = seedFromEnv();
    console.log(`[faults/n2] seed=${seed} (replay: SEED=${seed})`);
    const pauseMs = 3 * LEASE_MS;
    let pause:
      | { from: number; to: number; pids: number; effectMs: number; commitMs: number }
      | undefined;
    const result = await runScenario({
      name: "n2",
      seed,
      pg: server(),
      workers: 2,
      orders: 200,
      sleeps: 30,
      payments: 30,
      windowMs: 20_000,
      leaseMs: LEASE_MS,
      pollMs: POLL_MS,
      settleTimeoutMs: SETTLE_MS,
      maxTakeoverLagMs: MAX_TAKEOVER_LAG_MS,
      async nemesis(c) {
        await delay(c.t0 + c.rng.int(6000, 8000) - Date.now());
        await c.checkpoint();
        const from = Date.now();
        const pids = c.pg.pause();
        await delay(pauseMs);
        c.pg.resume();
        const to = Date.now();
        c.outage(from, to);
        const progress = await c.progressAfter(to, 30_000);
        pause = { from, to, pids: pids.length, ...progress };
        c.log({ fault: "sigstop-postgres", pids: pids.length, ms: to - from, ...progress });
        await c.checkpoint();
      },
    });
    let passed = false;
    try {
      const p = pause;
      if (!p) throw new Error("the pause did not happen");
      report("n2", result, {
        pause: {
          ms: p.to - p.from,
          processes: p.pids,
          firstEffectMs: p.effectMs,
          firstCommitMs: p.commitMs,
          effects5s: around(result, p.from, p.to, 5000),
        },
      });
      expect(p.pids, "postmaster and backends stopped").toBeGreaterThan(1);
      expect(p.commitMs, "durable progress after the pause").toBeLessThanOrEqual(MAX_RESUME_MS);
      passed = true;
    } finally {
      cleanup(result.dir, passed, "n2");
    }
  }, 240_000);

  it("Q-L3: a worker SIGSTOPped for 2.5 leases is taken over; its late writes are fenced; it works on", async () => {
    const seed = seedFromEnv();
    console.log(`[faults/l3] seed=${seed} (replay: SEED=${seed})`);
    const probes = 10;
    const stopMs = 2.5 * LEASE_MS;
    let zombie:
      | { life: number; pid: number; stoppedAt: number; resumedAt: number; held: string[] }
      | undefined;
    const result = await runScenario({
      name: "l3",
      seed,
      pg: server(),
      workers: 2,
      orders: 120,
      sleeps: 20,
      payments: 20,
      probes,
      holdMs: 3000,
      windowMs: 16_000,
      leaseMs: LEASE_MS,
      pollMs: POLL_MS,
      settleTimeoutMs: SETTLE_MS,
      maxTakeoverLagMs: MAX_TAKEOVER_LAG_MS,
      async nemesis(c) {
        // Once every probe is inside its 3 s step, freeze the worker running the most.
        const deadline = Date.now() + 60_000;
        let begun = new Map<string, number>();
        while (begun.size < probes) {
          if (Date.now() > deadline) throw new Error(`only ${begun.size} probes began`);
          await delay(20);
          begun = new Map(
            effects(c.ledger())
              .filter((e) => e.step === "hold" && e.phase === "begin")
              .map((e) => [e.run, e.life]),
          );
        }
        const perLife = new Map<number, string[]>();
        for (const [run, life] of begun) perLife.set(life, [...(perLife.get(life) ?? []), run]);
        const [life, held] = [...perLife].sort((a, b) => b[1].length - a[1].length)[0] ?? [];
        const victim = c.slots.find((s) => s.life === life);
        if (!victim || !held) throw new Error("no worker runs the probes");
        await delay(500);
        process.kill(victim.pid, "SIGSTOP");
        const stoppedAt = Date.now();
        await delay(stopMs);
        // Taken before the signal: the zombie records nothing while stopped, and may run
        // (and record) before this process reads the clock again.
        const resumedAt = Date.now();
        process.kill(victim.pid, "SIGCONT");
        zombie = { life: victim.life, pid: victim.pid, stoppedAt, resumedAt, held };
        c.log({
          fault: "sigstop-worker",
          life: victim.life,
          ms: resumedAt - stoppedAt,
          held: held.length,
        });
      },
    });
    let passed = false;
    try {
      const z = zombie;
      if (!z) throw new Error("the zombie was not made");
      const mine = <T extends { life: number; t: number }>(records: T[]) =>
        records.filter((r) => r.life === z.life && r.t >= z.resumedAt);
      const rejected = new Set(
        mine([
          ...result.messages("fenced"),
          ...result.messages("lease-lost"),
          ...result.messages("lease-expired"),
        ]).map((m) => String(m.run)),
      );
      const lateEnds = mine(effects(result.ledger)).filter(
        (e) => e.step === "hold" && e.phase === "end",
      );
      const takenOver = z.held.filter((run) => {
        const output = result.final.get(run)?.output as { hold?: ProbeOutput } | undefined;
        return output?.hold !== undefined && output.hold.life !== z.life;
      });
      const afterResume = mine(result.ledger);
      const figures = {
        zombieLife: z.life,
        stoppedMs: z.resumedAt - z.stoppedAt,
        probesHeld: z.held.length,
        probesTakenOver: takenOver.length,
        zombieLateHoldEnds: lateEnds.length,
        zombieRejectedRuns: rejected.size,
        zombieFencedWrites: mine(result.messages("fenced")).length,
        zombieLeasesLost: mine(result.messages("lease-lost")).length,
        zombieSelfFenced: mine(result.messages("lease-expired")).length,
        zombieClaimsAfter: afterResume.filter((r) => r.type === "claim").length,
        zombieCompletionsAfter: afterResume.filter(
          (r) => r.type === "release" && r.op === "complete",
        ).length,
      };
      report("l3", result, { zombie: figures });
      // The other worker took over every probe the zombie held: its result is the one recorded.
      expect(takenOver.sort()).toEqual([...z.held].sort());
      for (const run of z.held) {
        // The zombie still finished the step (its side effect happened) …
        expect(
          lateEnds.map((e) => e.run),
          `${run}: the zombie's late end`,
        ).toContain(run);
        // … and its write was rejected (fenced, or the lease found lost) or never attempted (it
        // stopped itself: its lease had gone unconfirmed for a whole lease).
        expect([...rejected], `${run}: the zombie's write rejected`).toContain(run);
        // … and it went on to nothing after it (self-fenced).
        const next = mine(effects(result.ledger)).filter(
          (e) => e.run === run && e.step === "after",
        );
        expect(next, `${run}: the zombie ran the next step`).toEqual([]);
      }
      // The zombie then works normally: it claims and completes runs again.
      expect(figures.zombieClaimsAfter).toBeGreaterThan(0);
      expect(figures.zombieCompletionsAfter).toBeGreaterThan(0);
      passed = true;
    } finally {
      cleanup(result.dir, passed, "l3");
    }
  }, 240_000);
});
