import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import { defineWorkflow } from "../src/index.ts";
import { type TestCairn, waitForEngine } from "../src/testing/index.ts";
import { testCairn } from "./support/engine.ts";

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

/**
 * How long the event loop was held while `work` ran, in ms. A stall detector, not a speed
 * test. `loopMaxMs` is the event loop's longest delay (`monitorEventLoopDelay`); on a busy
 * machine it also counts time the OS gave the CPU to other processes, so what is held to
 * four times the 50 ms any engine duty may take is `busyMaxMs`: over each 5 ms tick's
 * delay, the CPU time this process spent in it (a duty that holds the loop spends it; a
 * process made to wait does not). The loop's own delay is still held to 2 s, far below the
 * seconds a duty doing its whole job at once took.
 */
async function loopHeld(
  work: () => Promise<void>,
): Promise<{ loopMaxMs: number; busyMaxMs: number }> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  let busyMaxMs = 0;
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  const tick = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    busyMaxMs = Math.max(busyMaxMs, Math.min(now - last, (cpu.user + cpu.system) / 1000));
    last = now;
    lastCpu = process.cpuUsage();
  }, 5);
  delay.enable();
  try {
    await work();
  } finally {
    delay.disable();
    clearInterval(tick);
  }
  return { loopMaxMs: delay.max / 1e6, busyMaxMs };
}

function expectNoStall(held: { loopMaxMs: number; busyMaxMs: number }): void {
  const figures = `loop delay max ${held.loopMaxMs.toFixed(0)} ms, busy max ${held.busyMaxMs.toFixed(0)} ms`;
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
    expectNoStall(held);
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
    expectNoStall(held);
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
    expectNoStall(held);
  });
});
