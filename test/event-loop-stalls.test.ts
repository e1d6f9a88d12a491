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
 * The longest the event loop waited while `work` ran, in ms. A stall detector, not a speed
 * test: the bound it is held to is four times the 50 ms any engine duty may hold the loop,
 * room for a busy machine, and far below the seconds a duty doing its whole job at once takes.
 */
async function longestLoopDelayMs(work: () => Promise<void>): Promise<number> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  try {
    await work();
  } finally {
    delay.disable();
  }
  return delay.max / 1e6;
}

const stallBoundMs = 200;

describe("no engine duty stalls the event loop", () => {
  // Four hours of per-second slots: enough chunks to see a stall; a day's backfill (86,400
  // runs) is measured against /healthz in the guide's figures, not run on every test pass.
  it("backfills hours of per-second slots in chunks", { timeout: 120_000 }, async () => {
    t = await testCairn({ workflows: [tick], start });
    await t.cairn.schedules.create({
      id: "s",
      workflow: "tick",
      cron: "* * * * * *",
      paused: true,
    });
    let result: { slots: number; created: string[] } | undefined;
    const longest = await longestLoopDelayMs(async () => {
      result = await t?.cairn.schedules.backfill("s", { from: start - hours, to: start });
    });
    expect(result?.slots).toBe(4 * 3600);
    expect(result?.created).toHaveLength(4 * 3600);
    expect(longest).toBeLessThan(stallBoundMs);
  });

  it("refuses a backfill over the cap, naming the cap and the count, and creates nothing", async () => {
    t = await testCairn({ workflows: [tick], start });
    await t.cairn.schedules.create({
      id: "s",
      workflow: "tick",
      cron: "* * * * * *",
      paused: true,
    });
    const tenYears = { from: start - 3650 * day, to: start };
    let error: unknown;
    const longest = await longestLoopDelayMs(async () => {
      error = await t?.cairn.schedules.backfill("s", tenYears).catch((e: unknown) => e);
    });
    expect(error).toMatchObject({ code: "LIMIT_EXCEEDED" });
    expect((error as Error).message).toMatch(
      /about 315,\d{3},\d{3} slots, over the cap of 100,000/,
    );
    expect(await t.cairn.listRuns({ workflow: "tick", limit: 1 })).toEqual([]);
    expect(longest).toBeLessThan(stallBoundMs);
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
    const longest = await longestLoopDelayMs(async () => {
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
    expect(longest).toBeLessThan(stallBoundMs);
  });
});
