import { afterEach, describe, expect, it } from "vitest";
import type { RunId } from "../src/core/types.ts";
import { defineWorkflow, type EngineEvent, NonRetryableError } from "../src/index.ts";
import type { RunRecord } from "../src/store/store.ts";
import { nextEngineEvent, type TestCairn } from "../src/testing/index.ts";
import { testCairn } from "./support/engine.ts";

/**
 * Every path that creates a run goes through the one run builder (src/engine/new-run.ts),
 * so each applies the workflow's queue, priority, concurrency, rate limit and deadline.
 */
let t: TestCairn | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const hour = 3_600_000;

/** Runs on queue "gpu", which the test's worker does not serve: its rows stay as created. */
const gpuJob = defineWorkflow(
  {
    name: "gpu-job",
    queue: "gpu",
    priority: (input: { model: string }) => (input.model === "big" ? 9 : 3),
    concurrency: { limit: 2, key: (input: { model: string }) => input.model },
    rateLimit: { limit: 5, period: "1m", key: (input: { model: string }) => input.model },
    timeout: "1h",
    triggers: [{ event: "gpu.requested" }],
  },
  async (_ctx, input: { model: string }) => input.model,
);

const parent = defineWorkflow({ name: "gpu-parent" }, async (ctx, model: string) =>
  ctx.invoke("train", gpuJob, { model }),
);

function expectGpuOptions(run: RunRecord | undefined, createdAt: number): void {
  expect(run).toMatchObject({
    queue: "gpu",
    priority: 9,
    concurrencyKey: "big",
    concurrencyLimit: 2,
    rateKey: "big",
    rateLimit: 5,
    ratePeriodMs: 60_000,
    deadlineAt: createdAt + hour,
  });
}

const createdRunOf = (workflow: string) => (e: EngineEvent) =>
  e.type === "run" && e.reason === "created" && e.workflow === workflow;

describe("the run builder applies the workflow's options on every path", () => {
  it("ctx.invoke: the child gets its workflow's queue, priority, concurrency and rate limit", async () => {
    t = await testCairn({ workflows: [gpuJob, parent] });
    const created = nextEngineEvent(t.cairn, createdRunOf("gpu-job"));
    const run = await t.cairn.start(parent, "big");
    const child = await created;
    expect(child.type === "run" && child.runId).toBe(`${run.id}/train`);
    const row = await t.cairn.store.getRun(`${run.id}/train` as RunId);
    expectGpuOptions(row, t.clock.now());
    expect(row).toMatchObject({ parentId: run.id, depth: 1, status: "queued" });
  });

  it("start: the run gets the same options", async () => {
    t = await testCairn({ workflows: [gpuJob] });
    const run = await t.cairn.start(gpuJob, { model: "big" });
    expectGpuOptions(await t.cairn.store.getRun(run.id), t.clock.now());
  });

  it("start: invalid input creates no run on any path", async () => {
    t = await testCairn({ workflows: [gpuJob, parent] });
    const strict = defineWorkflow(
      {
        name: "strict",
        input: {
          "~standard": {
            version: 1,
            vendor: "test",
            validate: (value: unknown) =>
              typeof value === "number" ? { value } : { issues: [{ message: "not a number" }] },
          },
        },
      },
      async (_ctx, n: number) => n,
    );
    await expect(t.cairn.start(strict, "x" as unknown as number)).rejects.toThrow(
      /Invalid input for workflow "strict": not a number/,
    );
    expect(await t.cairn.listRuns()).toEqual([]);
  });

  it("event trigger: the started run gets the options", async () => {
    t = await testCairn({ workflows: [gpuJob] });
    const { started } = await t.cairn.sendEvent("gpu.requested", { model: "big" }, { id: "e1" });
    expect(started).toEqual(["gpu-job:e1"]);
    expectGpuOptions(await t.cairn.store.getRun("gpu-job:e1" as RunId), t.clock.now());
  });

  it("schedule: a fired slot's run gets the options", async () => {
    t = await testCairn({ workflows: [gpuJob] });
    await t.cairn.schedules.create({
      id: "nightly",
      workflow: "gpu-job",
      cron: "0 3 * * *",
      input: { model: "big" },
    });
    const created = nextEngineEvent(t.cairn, createdRunOf("gpu-job"));
    t.clock.advance("1d");
    const event = await created;
    const row = await t.cairn.store.getRun((event as { runId: RunId }).runId);
    expectGpuOptions(row, t.clock.now());
    expect(row?.scheduleId).toBe("nightly");
  });

  it("schedule: an input the workflow's schema rejects is refused at creation", async () => {
    const typed = defineWorkflow(
      {
        name: "typed",
        input: {
          "~standard": {
            version: 1,
            vendor: "test",
            validate: (value: unknown) =>
              typeof value === "string" ? { value } : { issues: [{ message: "not a string" }] },
          },
        },
      },
      async (_ctx, s: string) => s,
    );
    t = await testCairn({ workflows: [typed] });
    await expect(
      t.cairn.schedules.create({ workflow: "typed", cron: "* * * * *", input: 5 }),
    ).rejects.toThrow(/Invalid input for workflow "typed"/);
  });

  it("backfill: every slot's run gets the options", async () => {
    t = await testCairn({ workflows: [gpuJob] });
    await t.cairn.schedules.create({
      id: "hourly",
      workflow: "gpu-job",
      cron: "0 * * * *",
      input: { model: "big" },
    });
    const from = t.clock.now() - 3 * hour;
    const { created } = await t.cairn.schedules.backfill("hourly", { from, to: t.clock.now() });
    expect(created).toHaveLength(3);
    for (const id of created) expectGpuOptions(await t.cairn.store.getRun(id), t.clock.now());
  });

  it("retry: the run gets a fresh deadline from the workflow's timeout", async () => {
    const flaky = defineWorkflow({ name: "flaky", timeout: "1h" }, async (ctx) => {
      await ctx.step("fail", () => {
        throw new NonRetryableError("no");
      });
    });
    t = await testCairn({ workflows: [flaky] });
    const run = await t.cairn.start(flaky, undefined);
    await expect(run.result()).rejects.toThrow("no");
    t.clock.advance("2h");
    const retried = nextEngineEvent(t.cairn, (e) => e.type === "run" && e.reason === "retry");
    await t.cairn.retry(run.id);
    await retried;
    expect((await t.cairn.store.getRun(run.id))?.deadlineAt).toBe(t.clock.now() + hour);
  });
});

describe("a start with a run id that exists", () => {
  /** On queue "gpu", which no worker here serves: the first start's row stays as stored. */
  const order = defineWorkflow(
    { name: "order-by-id", queue: "gpu" },
    async (_ctx, input: { sku: string; qty: number; at?: Date }) => input.sku,
  );

  it("creates the run once; the same input again says so, another input is not used", async () => {
    t = await testCairn({ workflows: [order] });
    const first = await t.cairn.start(order, { sku: "a", qty: 1 }, { id: "o-1" });
    expect(first).toMatchObject({ id: "o-1", created: true, inputMatches: true });

    // Keys in another order are the same input.
    const same = await t.cairn.start(order, { qty: 1, sku: "a" }, { id: "o-1" });
    expect(same).toMatchObject({ id: "o-1", created: false, inputMatches: true });

    const other = await t.cairn.start(order, { sku: "a", qty: 2 }, { id: "o-1" });
    expect(other).toMatchObject({ id: "o-1", created: false, inputMatches: false });
    expect((await t.cairn.getRun("o-1")).input).toEqual({ sku: "a", qty: 1 });
    expect(await t.cairn.listRuns({ workflow: "order-by-id" })).toHaveLength(1);
  });

  it("compares values JSON cannot hold by what they are: a Date, or no input at all", async () => {
    t = await testCairn({ workflows: [order] });
    const at = new Date(Date.UTC(2030, 0, 1));
    await t.cairn.start(order, { sku: "b", qty: 1, at }, { id: "o-2" });
    const sameDay = await t.cairn.start(
      order,
      { sku: "b", qty: 1, at: new Date(at) },
      { id: "o-2" },
    );
    expect(sameDay.inputMatches).toBe(true);
    const nextDay = new Date(at.getTime() + 86_400_000);
    const later = await t.cairn.start(order, { sku: "b", qty: 1, at: nextDay }, { id: "o-2" });
    expect(later.inputMatches).toBe(false);
    // A string that looks like the Date's JSON is not a Date.
    const text = { sku: "b", qty: 1, at: at.toISOString() } as never;
    expect((await t.cairn.start(order, text, { id: "o-2" })).inputMatches).toBe(false);
    expect((await t.cairn.start(order, undefined as never, { id: "o-2" })).inputMatches).toBe(
      false,
    );
  });
});

describe("ids Cairn makes", () => {
  /** A UUID version 7: the creation millisecond in its first 48 bits. */
  const version7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const millisecondOf = (id: string) => Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);

  it("are time-ordered for starts, events and reruns, so runs started together share pages", async () => {
    const oneStep = defineWorkflow({ name: "one-step" }, (ctx, n: number) =>
      ctx.step("double", async () => n * 2),
    );
    t = await testCairn({ workflows: [gpuJob, oneStep] });
    const before = Date.now();
    const started = await t.cairn.start(gpuJob, { model: "big" });
    const event = await t.cairn.sendEvent("gpu.requested", { model: "small" });
    const done = await t.cairn.start(oneStep, 2);
    expect(await done.result()).toBe(4);
    const rerun = await t.cairn.rerun(done.id, { fromStep: "double" });
    expect(event.started).toEqual([`gpu-job:${event.id}`]);
    for (const id of [started.id, event.id, done.id, rerun.id]) {
      expect(id).toMatch(version7);
      expect(millisecondOf(id)).toBeGreaterThanOrEqual(before);
      expect(millisecondOf(id)).toBeLessThanOrEqual(Date.now());
    }
  });
});
