import { readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import { defineWorkflow } from "../src/index.ts";
import { type TestCairn, waitForEngine } from "../src/testing/index.ts";
import { testCairn, testStore } from "./support/engine.ts";

let t: TestCairn | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const start = Date.UTC(2030, 0, 1, 0, 0, 0);
const day = 86_400_000;
const hours = 4 * 3_600_000;

// On a queue no worker of this test serves: the runs are created and stay queued, so what is
// measured is the engine creating them, not running them.
const tick = defineWorkflow({ name: "tick", queue: "nobody-serves-this" }, async (ctx) =>
  ctx.step("tick", () => 1),
);

interface LoopHeld {
  /** The event loop's longest and 99th-percentile delay (`monitorEventLoopDelay`). */
  loopMaxMs: number;
  loopP99Ms: number;
  /**
   * The longest and 99th-percentile CPU time the event loop's thread spent in one 5 ms tick's
   * delay (the whole process's where Linux schedstat is missing).
   */
  busyMaxMs: number;
  busyP99Ms: number;
  /**
   * The longest and 99th-percentile tick lateness less the time the loop's thread waited for
   * a CPU (Linux schedstat): CPU time and blocking I/O (a synchronous fsync) both count here,
   * other processes do not. Printed, not asserted: a shared disk's fsyncs vary as much as
   * the load does. Undefined where `/proc/thread-self/schedstat` is missing.
   */
  heldMaxMs?: number;
  heldP99Ms?: number;
}

/**
 * Nanoseconds the calling thread has run on a CPU and waited on a run queue (Linux
 * schedstat), or undefined off Linux.
 */
function threadSchedstat(): { onCpuNs: number; waitNs: number } | undefined {
  try {
    const [onCpu, wait] = readFileSync("/proc/thread-self/schedstat", "utf8").split(" ");
    return { onCpuNs: Number(onCpu), waitNs: Number(wait) };
  } catch {
    return undefined;
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

/**
 * How long the event loop was held while `work` ran, in ms. A stall detector, not a speed
 * test. The loop's delay (`monitorEventLoopDelay`) also counts time the OS gave the CPU to
 * other processes, which on a busy shared 2-core machine is tens of ms at a time whatever
 * this process does; so the bounds are put on `busy`: over each 5 ms tick's delay, the CPU
 * time the loop's thread spent in it (a duty that holds the loop spends it; a thread made to
 * wait does not).
 */
async function loopHeld(work: () => Promise<void>): Promise<LoopHeld> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  const busy: number[] = [];
  const held: number[] = [];
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let lastStat = threadSchedstat();
  const tick = setInterval(() => {
    const now = performance.now();
    const stat = threadSchedstat();
    // The loop's thread alone where Linux says: the process's CPU also counts the collector's
    // and libuv's helper threads, which run beside the loop without holding it.
    const cpu = process.cpuUsage(lastCpu);
    const cpuMs =
      stat && lastStat ? (stat.onCpuNs - lastStat.onCpuNs) / 1e6 : (cpu.user + cpu.system) / 1000;
    busy.push(Math.min(now - last, cpuMs));
    if (stat && lastStat) {
      held.push(Math.max(0, now - last - 5 - (stat.waitNs - lastStat.waitNs) / 1e6));
    }
    last = now;
    lastCpu = process.cpuUsage();
    lastStat = stat;
  }, 5);
  delay.enable();
  try {
    await work();
  } finally {
    delay.disable();
    clearInterval(tick);
  }
  busy.sort((a, b) => a - b);
  held.sort((a, b) => a - b);
  return {
    loopMaxMs: delay.max / 1e6,
    loopP99Ms: delay.percentile(99) / 1e6,
    busyMaxMs: busy.at(-1) ?? 0,
    // Without the single worst tick (held to 200 ms on its own): a short duty has under 100
    // ticks, and then its p99 was that one tick, a GC landing on it failed the 50 ms rule.
    busyP99Ms: percentile(busy.length > 1 ? busy.slice(0, -1) : busy, 0.99),
    ...(held.length > 0 ? { heldMaxMs: held.at(-1), heldP99Ms: percentile(held, 0.99) } : {}),
  };
}

/**
 * The rule is that no engine duty holds the loop for more than 50 ms. What is held to 50 ms
 * is the 99th percentile of `busy`: a duty chunked as it should be stays far below it, while
 * one doing its whole job at once holds every tick of it. The single worst tick is held to
 * four times that (200 ms) and left out of the p99: a garbage collection or a JIT compile
 * lands on some tick of a duty. The loop's own delay is held to 2 s, far below the seconds a duty doing its
 * whole job at once took; its p99 is printed, not asserted (other processes set it).
 */
function expectNoStall(duty: string, held: LoopHeld): void {
  const figures =
    `${duty} on ${testStore}: busy p99 ${held.busyP99Ms.toFixed(1)} ms, max ${held.busyMaxMs.toFixed(1)} ms; ` +
    `loop delay p99 ${held.loopP99Ms.toFixed(1)} ms, max ${held.loopMaxMs.toFixed(1)} ms; ` +
    `held (lateness less run-queue wait) p99 ${held.heldP99Ms?.toFixed(1)} ms, max ${held.heldMaxMs?.toFixed(1)} ms`;
  console.log(figures);
  expect(held.busyP99Ms, figures).toBeLessThanOrEqual(50);
  expect(held.busyMaxMs, figures).toBeLessThan(200);
  expect(held.loopMaxMs, figures).toBeLessThan(2_000);
}

/** An engine with schedule "s" of workflow "tick", every second, paused (backfills only). */
async function withPausedPerSecondSchedule(): Promise<TestCairn> {
  const engine = await testCairn({ workflows: [tick], start });
  await engine.cairn.schedules.create({
    id: "s",
    workflow: "tick",
    cron: "* * * * * *",
    paused: true,
  });
  return engine;
}

describe("no engine duty stalls the event loop", () => {
  // Four hours of per-second slots: enough chunks to see a stall; a day's backfill (86,400
  // runs) is measured against /healthz in docs/scaling.md, not run on every test pass.
  it("backfills hours of per-second slots in chunks", { timeout: 120_000 }, async () => {
    t = await withPausedPerSecondSchedule();
    let result: { slots: number; created: string[] } | undefined;
    const held = await loopHeld(async () => {
      result = await t?.cairn.schedules.backfill("s", { from: start - hours, to: start });
    });
    expect(result?.slots).toBe(4 * 3600);
    expect(result?.created).toHaveLength(4 * 3600);
    expectNoStall("backfill", held);
  });

  it("refuses a backfill over the cap, naming the cap and the count, and creates nothing", async () => {
    t = await withPausedPerSecondSchedule();
    const tenYears = { from: start - 3650 * day, to: start };
    let error: unknown;
    const held = await loopHeld(async () => {
      error = await t?.cairn.schedules.backfill("s", tenYears).catch((e: unknown) => e);
    });
    expect(error).toMatchObject({ code: "LIMIT_EXCEEDED" });
    expect((error as Error).message).toMatch(
      /about 315,\d{3},\d{3} slots, over the cap of 100,000/,
    );
    expect(await t.cairn.listRuns({ workflow: "tick", limit: 1 })).toEqual([]);
    expectNoStall("backfill refused", held);
  });

  it("catches up hours of missed per-second slots over several passes", {
    timeout: 120_000,
  }, async () => {
    t = await testCairn({ workflows: [tick], start });
    await t.cairn.schedules.create({
      id: "s",
      workflow: "tick",
      cron: "* * * * * *",
      catchup: "all",
      overlap: "allow",
    });
    const missed = 3 * 3600;
    const held = await loopHeld(async () => {
      const cairn = t?.cairn;
      if (!t || !cairn) return;
      t.clock.advance(missed * 1000);
      const now = t.clock.now();
      await waitForEngine(
        cairn,
        async () => (await cairn.schedules.get("s")).nextAt.getTime() > now,
        "the schedule caught up",
      );
    });
    const runs = await t.cairn.listRuns({ workflow: "tick", limit: 1000 });
    expect(runs).toHaveLength(1000);
    expectNoStall("catch-up", held);
  });

  it("purges finished per-second runs in chunks", { timeout: 120_000 }, async () => {
    t = await withPausedPerSecondSchedule();
    const cairn = t.cairn;
    // 20 minutes of slots: 1,200 runs, several purge chunks. Cancelling them is one
    // transaction a run, the slow part of this test on PostgreSQL.
    await cairn.schedules.backfill("s", { from: start - 1_200_000, to: start });
    const cancelled = await cairn.bulk({ action: "cancel", filter: { workflow: "tick" } });
    expect(cancelled.affected).toBe(1200);
    t.clock.advance(2 * day);
    let deleted = 0;
    const held = await loopHeld(async () => {
      deleted = await cairn.purgeRuns("1d");
    });
    expect(deleted).toBe(1200);
    expect(await cairn.listRuns({ workflow: "tick", limit: 1 })).toEqual([]);
    expectNoStall("purge", held);
  });
});
