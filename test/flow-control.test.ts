import { afterEach, describe, expect, it } from "vitest";
import { Cairn, defineWorkflow } from "../src/index.ts";
import { type TestCairn, waitForEngine, waitForStatus } from "../src/testing/index.ts";
import { claimPass, probeWorkflow } from "./support/claim-pass.ts";
import { testCairn } from "./support/engine.ts";

let t: TestCairn | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/**
 * Counts how many step bodies of each key run at the same moment: the overlap ledger. Bodies
 * hold until all `runsPerKey` runs of their key exist, the engine has decided on every one
 * (running, parked on its key, or finished) with a body started for each running one, and
 * `expected` bodies run (or none is left queued to join them); then they all let go. So a run admitted over the limit is always counted:
 * the maximum shows what the engine allows, not how fast this machine starts runs.
 */
function overlapLedger(workflow: string, runsPerKey: Record<string, number>) {
  const current = new Map<string, number>();
  const max = new Map<string, number>();
  // Bumped when a key's holders may let go: those that came before it all do.
  const releases = new Map<string, number>();
  const count = (key: string) => current.get(key) ?? 0;
  /** Whether the bodies of `key` may let go now. */
  const settled = async (key: string, expected: number) => {
    const cairn = t?.cairn as Cairn;
    const runs = (await cairn.store.listRuns({ workflow, limit: 1000 })).filter(
      (run) => run.concurrencyKey === key,
    );
    // Every run that could be admitted over the limit must exist and have met the claim (a
    // queued run not parked has not yet), and each running one must show up here.
    if (runs.length < (runsPerKey[key] ?? 0)) return false;
    if (runs.some((run) => run.status === "queued" && run.blockedOn === null)) return false;
    if (runs.filter((run) => run.status === "running").length !== count(key)) return false;
    return count(key) >= expected || !runs.some((run) => run.status === "queued");
  };
  return {
    async hold(key: string, expected: number) {
      const released = releases.get(key) ?? 0;
      current.set(key, count(key) + 1);
      max.set(key, Math.max(max.get(key) ?? 0, count(key)));
      await waitForEngine(
        t?.cairn as Cairn,
        async () => {
          if ((releases.get(key) ?? 0) > released) return true;
          if (!(await settled(key, expected))) return false;
          releases.set(key, (releases.get(key) ?? 0) + 1);
          return true;
        },
        () => `${expected} bodies of key ${key} running and every run of it decided`,
      );
      current.set(key, count(key) - 1);
    },
    max,
  };
}

describe("concurrency", () => {
  it("never runs more than the limit per key at once, and keys do not block each other", async () => {
    const ledger = overlapLedger("per-customer", { a: 6, b: 2 });
    const wf = defineWorkflow(
      {
        name: "per-customer",
        concurrency: { limit: 2, key: (input: { customer: string }) => input.customer },
      },
      async (ctx, input: { customer: string }) => {
        await ctx.step("work", () => ledger.hold(input.customer, 2));
        return input.customer;
      },
    );
    t = await testCairn({ workflows: [wf], concurrency: 50 });
    const runs = [];
    for (let i = 0; i < 6; i++) runs.push(await t.cairn.start(wf, { customer: "a" }));
    for (let i = 0; i < 2; i++) runs.push(await t.cairn.start(wf, { customer: "b" }));
    // Parked runs wake when a slot frees; nothing polls.
    for (const run of runs) await run.result();
    expect(ledger.max.get("a")).toBe(2);
    expect(ledger.max.get("b")).toBe(2);
  });

  it("waiting runs hold no slot", async () => {
    const wf = defineWorkflow(
      { name: "sleepy-limited", concurrency: { limit: 1 } },
      async (ctx) => {
        await ctx.sleep("nap", "1h");
        return "ok";
      },
    );
    t = await testCairn({ workflows: [wf] });
    const a = await t.cairn.start(wf, undefined);
    const b = await t.cairn.start(wf, undefined);
    await waitForStatus(t.cairn, a.id, "waiting");
    await waitForStatus(t.cairn, b.id, "waiting");
  });
});

describe("rate limits", () => {
  it("starts at most `limit` runs per period", async () => {
    const started: number[] = [];
    const wf = defineWorkflow(
      { name: "partner-api", rateLimit: { limit: 2, period: "1m" } },
      async (ctx) => ctx.step("call", () => started.push(t?.clock.now() ?? 0)),
    );
    t = await testCairn({ workflows: [wf, probeWorkflow] });
    const cairn = t.cairn;
    const calls = (n: number) =>
      new Promise<void>((resolve) => {
        let seen = 0;
        const stop = cairn.subscribe((e) => {
          if (e.type === "step" && e.key === "call" && e.status === "completed" && ++seen === n) {
            stop();
            resolve();
          }
        });
      });
    const firstTwo = calls(2);
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await t.cairn.start(wf, undefined));
    await firstTwo;
    await claimPass(cairn); // a claim pass that would have let a third one in
    expect(started).toHaveLength(2);
    const nextTwo = calls(2);
    t.clock.advance("1m");
    await nextTwo;
    await claimPass(cairn);
    expect(started).toHaveLength(4);
    t.clock.advance("1m");
    for (const run of runs) await run.result();
    expect(started).toHaveLength(5);
    const t0 = started[0] ?? 0;
    expect(started.map((s) => s - t0)).toEqual([0, 0, 60_000, 60_000, 120_000]);
  });
});

describe("debounce", () => {
  it("coalesces a burst into one run with the last input", async () => {
    const seen: string[] = [];
    const wf = defineWorkflow(
      {
        name: "sync-profile",
        debounce: { period: "30s", key: (input: { user: string; v: string }) => input.user },
      },
      async (ctx, input: { user: string; v: string }) => ctx.step("sync", () => seen.push(input.v)),
    );
    t = await testCairn({ workflows: [wf, probeWorkflow] });
    const handles = [];
    for (const v of ["1", "2", "3"]) {
      handles.push(await t.cairn.start(wf, { user: "u1", v }));
      t.clock.advance("10s");
    }
    const other = await t.cairn.start(wf, { user: "u2", v: "x" });
    expect(new Set(handles.map((h) => h.id)).size).toBe(1);
    await claimPass(t.cairn);
    expect(seen).toEqual([]);
    t.clock.advance("30s");
    // The worker may have set its wake-up timer from a due time that a later start of the
    // burst moved: on a test clock only an advance fires it (a real clock would poll). Each
    // round waits for a claim pass, not for real time.
    const done = Promise.all([handles[0]?.result(), other.result()]);
    let finished = false;
    void done.finally(() => {
      finished = true;
    });
    while (!finished) {
      await claimPass(t.cairn);
      t.clock.advance("1s");
    }
    await done;
    expect(seen.sort()).toEqual(["3", "x"]);
  });
});

describe("priority", () => {
  it("runs higher priority first among due runs", async () => {
    const order: number[] = [];
    const wf = defineWorkflow(
      { name: "prioritized", priority: (input: number) => input },
      async (ctx, input: number) => ctx.step("record", () => order.push(input)),
    );
    t = await testCairn({ workflows: [wf], concurrency: 1 });
    await t.cairn.pauseWorkflow("prioritized");
    const runs = [];
    for (const p of [1, 5, 3, 10, 2]) runs.push(await t.cairn.start(wf, p));
    await t.cairn.resumeWorkflow("prioritized");
    for (const run of runs) await run.result();
    expect(order).toEqual([10, 5, 3, 2, 1]);
  });
});

describe("queues", () => {
  it("sends a queue's work only to workers subscribed to it", async () => {
    const ranOn: string[] = [];
    const gpu = defineWorkflow({ name: "render", queue: "gpu" }, async (ctx) =>
      ctx.step("render", () => ranOn.push(process.env.WORKER_TAG ?? "?")),
    );
    t = await testCairn({ workflows: [gpu, probeWorkflow] });
    const run = await t.cairn.start(gpu, undefined);
    await claimPass(t.cairn); // the default-queue worker claims, and leaves the gpu run
    expect((await t.cairn.getRun(run.id)).status).toBe("queued");
    const gpuWorker = await Cairn.open({
      db: t.db,
      workflows: [gpu],
      clock: t.clock,
    });
    await gpuWorker.worker({ queues: ["gpu"] });
    expect(await gpuWorker.handle(run.id).result()).toBe(1);
    await gpuWorker.close();
  });
});

describe("pausing a workflow", () => {
  it("holds its runs in the store until resumed", async () => {
    const wf = defineWorkflow({ name: "pausable" }, async (ctx) => ctx.step("a", () => "ran"));
    t = await testCairn({ workflows: [wf, probeWorkflow] });
    await t.cairn.pauseWorkflow("pausable");
    expect(await t.cairn.pausedWorkflows()).toEqual(["pausable"]);
    const run = await t.cairn.start(wf, undefined);
    await claimPass(t.cairn);
    expect((await t.cairn.getRun(run.id)).status).toBe("queued");
    await t.cairn.resumeWorkflow("pausable");
    expect(await run.result()).toBe("ran");
  });
});

describe("event triggers", () => {
  const onOrder = defineWorkflow(
    { name: "on-order", triggers: [{ event: "order.created", if: "event.data.total > 100" }] },
    async (ctx, order: { id: string; total: number }) => ctx.step("handle", () => order.id),
  );

  it("starts the subscribed workflow once per event id when the condition holds", async () => {
    t = await testCairn({ workflows: [onOrder] });
    const first = await t.cairn.sendEvent(
      "order.created",
      { id: "o1", total: 500 },
      { id: "evt-1" },
    );
    expect(first.started).toEqual(["on-order:evt-1"]);
    const again = await t.cairn.sendEvent(
      "order.created",
      { id: "o1", total: 500 },
      { id: "evt-1" },
    );
    expect(again).toMatchObject({ duplicate: true, started: [] });
    const small = await t.cairn.sendEvent("order.created", { id: "o2", total: 5 }, { id: "evt-2" });
    expect(small.started).toEqual([]);
    expect(await t.cairn.handle("on-order:evt-1").result()).toBe("o1");
    expect((await t.cairn.listEvents({ name: "order.created" })).map((e) => e.id)).toEqual([
      "evt-2",
      "evt-1",
    ]);
  });

  it("an event accepted by a process without the workflow's code still starts it", async () => {
    t = await testCairn({ workflows: [onOrder] });
    const sender = await Cairn.open({ db: t.db, clock: t.clock });
    const sent = await sender.sendEvent("order.created", { id: "o9", total: 900 }, { id: "evt-9" });
    expect(sent.started).toEqual(["on-order:evt-9"]);
    await sender.close();
    t.clock.advance("1s"); // the worker's poll finds work other processes created
    expect(await t.cairn.handle("on-order:evt-9").result()).toBe("o9");
  });

  it("rejects a malformed condition at definition, naming where", () => {
    expect(() =>
      defineWorkflow(
        { name: "bad", triggers: [{ event: "x", if: "event.data.(" }] },
        async () => 1,
      ),
    ).toThrow(/defineWorkflow\("bad"\): triggers\[0\]\.if: invalid condition "event\.data\.\("/);
  });
});
