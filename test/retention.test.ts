import { afterEach, describe, expect, it } from "vitest";
import type { EngineEvent } from "../src/core/engine-event.ts";
import { Cairn, defineWorkflow } from "../src/index.ts";
import { createMetrics } from "../src/server/metrics.ts";
import { nextEngineEvent, type TestCairn, waitForStatus } from "../src/testing/index.ts";
import { testCairn } from "./support/engine.ts";

let t: TestCairn | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const quick = defineWorkflow({ name: "quick" }, async (ctx) => {
  await ctx.step("one", () => 1);
  return "done";
});
const sleeper = defineWorkflow({ name: "sleeper" }, async (ctx) => {
  await ctx.sleep("long", "90d");
  return "woke";
});

type Purge = Extract<EngineEvent, { type: "purge" }>;

/** The end of a purge whose cut-off is at or after `before` (earlier passes are ignored). */
function purgeDone(cutOffAtLeast: number): Promise<Purge> {
  const cairn = t?.cairn;
  if (!cairn) throw new Error("no engine");
  return nextEngineEvent<Purge>(
    cairn,
    (e) => e.type === "purge" && e.done && e.before >= cutOffAtLeast,
  );
}

async function finishedRuns(count: number, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const run = await t?.cairn.start(quick, undefined, { id: `${prefix}-${i}` });
    await run?.result();
    ids.push(`${prefix}-${i}`);
  }
  return ids;
}

async function remaining(): Promise<string[]> {
  return ((await t?.cairn.listRuns({})) ?? []).map((r) => r.id).sort();
}

const day = 86_400_000;

describe("retention", () => {
  it("purges finished runs older than the window in the background, and keeps the rest", async () => {
    t = await testCairn({ workflows: [quick, sleeper], retention: "30d" });
    const start = t.clock.now();
    await finishedRuns(1, "old");
    const asleep = await t.cairn.start(sleeper, undefined, { id: "asleep" });
    await waitForStatus(t.cairn, asleep.id, "waiting");

    const firstPass = purgeDone(start + 20 * day - 30 * day);
    t.clock.advance("20d");
    expect((await firstPass).runs).toBe(0);
    await finishedRuns(1, "recent");

    const purged: Purge[] = [];
    const stop = t.cairn.subscribe((e) => e.type === "purge" && purged.push(e));
    const secondPass = purgeDone(start + 35 * day - 30 * day);
    t.clock.advance("15d");
    await secondPass;
    stop();
    expect(purged.reduce((sum, e) => sum + e.runs, 0)).toBe(1);
    // The waiting run is older than the window but not finished; the recent one is too young.
    expect(await remaining()).toEqual(["asleep", "recent-0"]);
    await expect(t.cairn.getRun("old-0")).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    expect((await t.cairn.getRun("asleep")).status).toBe("waiting");
  });

  it("bounds a pass to maxRunsPerPass in chunks, and the next pass follows after a minute", async () => {
    t = await testCairn({
      workflows: [quick],
      retention: { olderThan: "1d", every: "1h", chunkRuns: 2, maxRunsPerPass: 3 },
    });
    const start = t.clock.now();
    await finishedRuns(5, "r");
    const purged: Purge[] = [];
    const stop = t.cairn.subscribe(
      (e) => e.type === "purge" && e.before >= start && purged.push(e),
    );

    const bounded = purgeDone(start);
    t.clock.advance("2d");
    expect(await bounded).toMatchObject({ done: true, more: true });
    expect(purged.map((e) => e.runs)).toEqual([2, 1, 0]);
    expect(await remaining()).toHaveLength(2);

    const rest = purgeDone(start + 2 * day + 60_000 - day);
    t.clock.advance("1m");
    expect(await rest).toMatchObject({ done: true, more: false });
    stop();
    expect(purged.reduce((sum, e) => sum + e.runs, 0)).toBe(5);
    expect(await remaining()).toEqual([]);
  });

  it("cairn.purgeRuns deletes in chunks, reports each, and counts them in the metrics", async () => {
    t = await testCairn({ workflows: [quick] });
    await finishedRuns(5, "old");
    t.clock.advance("31d");
    await finishedRuns(1, "new");
    const silent = { info() {}, warn() {}, error() {}, child: () => silent };
    const metrics = createMetrics(t.cairn, silent);
    const purged: Purge[] = [];
    const stop = t.cairn.subscribe((e) => {
      metrics.observe(e);
      if (e.type === "purge") purged.push(e);
    });
    expect(await t.cairn.purgeRuns("30d", { chunkRuns: 2 })).toBe(5);
    stop();
    expect(purged.map((e) => [e.runs, e.done])).toEqual([
      [2, false],
      [2, false],
      [1, true],
    ]);
    expect(await remaining()).toEqual(["new-0"]);
    expect(await metrics.render()).toMatch(/^cairn_runs_purged_total 5$/m);
    await expect(t.cairn.purgeRuns("a month" as never)).rejects.toThrow(/olderThan "a month"/);
  });

  it("refuses a retention that is no duration, naming it, before opening the database", async () => {
    const db = "sqlite:/nonexistent-folder/cairn.db";
    await expect(Cairn.open({ db, retention: "a month" as never })).rejects.toThrow(
      /Invalid retention "a month"/,
    );
    await expect(Cairn.open({ db, retention: { olderThan: "1d", chunkRuns: 0 } })).rejects.toThrow(
      /retention.chunkRuns must be a positive integer/,
    );
  });
});
