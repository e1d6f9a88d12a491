import { afterEach, describe, expect, it } from "vitest";
import { defineWorkflow } from "../src/index.ts";
import { type TestCairn, waitForStatus } from "../src/testing/index.ts";
import { testCairn } from "./support/engine.ts";

let t: TestCairn | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Version 1: charge, wait a day, ship. */
const orderV1 = defineWorkflow({ name: "order", version: 1 }, async (ctx) => {
  await ctx.step("charge", () => "charged");
  await ctx.sleep("cool-off", "1d");
  await ctx.step("ship", () => "shipped");
  return "v1";
});

/** Version 2 changed the journal's shape: no wait, a fraud check first. */
const orderV2 = defineWorkflow({ name: "order", version: 2 }, async (ctx) => {
  await ctx.step("fraud-check", () => "ok");
  await ctx.step("charge", () => "charged");
  await ctx.sleep("cool-off", "1d");
  return "v2";
});

/** Runs through the store's claim, not handed to the local worker at start (flow control). */
const probe = defineWorkflow({ name: "probe", concurrency: { limit: 100 } }, async (ctx) =>
  ctx.step("probe", () => true),
);

async function versionOf(runId: string): Promise<number | undefined> {
  return (await (t as TestCairn).cairn.store.getRun(runId as never))?.workflowVersion;
}

describe("workflow versions", () => {
  it("keeps old versions side by side: each run stays on the version it started with", async () => {
    t = await testCairn({ workflows: [orderV1, probe] });
    const old = await t.cairn.start("order", undefined);
    await waitForStatus(t.cairn, old.id, "waiting");
    await t.cairn.reload([orderV2]); // deploy version 2 beside version 1

    const fresh = await t.cairn.start("order", undefined);
    const pinned = await t.cairn.start(orderV1, undefined); // an old version, asked for by value
    await waitForStatus(t.cairn, fresh.id, "waiting");
    await waitForStatus(t.cairn, pinned.id, "waiting");
    t.clock.advance("1d");
    expect(await old.result()).toBe("v1");
    expect(await fresh.result()).toBe("v2");
    expect(await pinned.result()).toBe("v1");
    expect([
      await versionOf(old.id),
      await versionOf(fresh.id),
      await versionOf(pinned.id),
    ]).toEqual([1, 2, 1]);
    const report = await t.cairn.replayAll([orderV1, orderV2, probe], { finished: 10 });
    expect(report).toMatchObject({ checked: 3, consistent: 3, diverged: [] });
  });

  it("leaves a run of a version no worker has for one that has it, and the gate names it", async () => {
    t = await testCairn({ workflows: [orderV2, probe] });
    const stranded = await t.cairn.start(orderV1, undefined); // version 1: not registered here
    await (await t.cairn.start(probe, undefined)).result(); // a claim pass after its start
    expect((await t.cairn.store.getRun(stranded.id as never))?.status).toBe("queued");

    const report = await t.cairn.replayAll([orderV2, probe]);
    expect(report.diverged).toEqual([
      {
        runId: stranded.id,
        workflow: "order",
        version: 1,
        status: "queued",
        position: null,
        expected: null,
        found: null,
        message:
          'the code has no version 1 of "order" (it has version 2): keep that version registered until its runs finish',
      },
    ]);

    await t.cairn.reload([orderV1]); // a worker with version 1 comes along
    await waitForStatus(t.cairn, stranded.id, "waiting");
    t.clock.advance("1d");
    expect(await stranded.result()).toBe("v1");
  });

  it("replays each run against its own version, and reports one a version change breaks", async () => {
    t = await testCairn({ workflows: [orderV1] });
    const run = await t.cairn.start(orderV1, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    // Version 2 deployed by editing version 1 in place: the run diverges.
    const edited = defineWorkflow({ name: "order", version: 1 }, orderV2.fn);
    const report = await t.cairn.replayAll([edited]);
    expect(report.diverged).toMatchObject([
      {
        runId: run.id,
        version: 1,
        position: 0,
        expected: 'step "charge"',
        found: 'step "fraud-check"',
      },
    ]);
    expect(await t.cairn.replayAll([orderV1, orderV2])).toMatchObject({ diverged: [] });
  });

  it("a child whose code this process lacks waits for a worker with it, on that worker's newest version", async () => {
    const report = defineWorkflow({ name: "report", version: 2 }, async () => "report v2");
    const elsewhere = defineWorkflow({ name: "report" }, async () => "never run here");
    const parent = defineWorkflow({ name: "parent" }, async (ctx) =>
      ctx.invoke("report", elsewhere, undefined),
    );
    t = await testCairn({ workflows: [parent, probe] });
    const run = await t.cairn.start(parent, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    const [child] = await t.cairn.listRuns({ parentId: run.id });
    expect(child).toMatchObject({ status: "queued", admitted: false });

    await t.cairn.reload([report]); // a worker with the code (version 2) comes along
    expect(await run.result()).toBe("report v2");
    expect(await versionOf(child?.id as string)).toBe(2);
  });

  it("refuses two definitions of one name and version, and a version that is no positive integer", async () => {
    const twin = defineWorkflow({ name: "order", version: 2 }, async () => "twin");
    t = await testCairn({ workflows: [orderV1, orderV2] });
    expect(() => t?.cairn.register(twin)).toThrow(
      'Two different workflows are named "order" with version 2; give each version its own number.',
    );
    expect(() => defineWorkflow({ name: "x", version: 0 }, async () => 1)).toThrow(
      'defineWorkflow("x"): `version` must be a positive integer, got 0.',
    );
    expect(() => defineWorkflow({ name: "x", version: 1.5 }, async () => 1)).toThrow(
      "`version` must be a positive integer, got 1.5.",
    );
  });
});
