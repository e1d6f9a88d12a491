import { afterEach, describe, expect, it } from "vitest";
import { type AnyOutcome, defineWorkflow } from "../src/index.ts";
import type { JournalOp } from "../src/store/store.ts";
import { type TestCairn, waitForRun, waitForStatus } from "../src/testing/index.ts";
import { testCairn } from "./support/engine.ts";

let t: TestCairn | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Waits until the run is suspended with its step `key` waiting. */
async function waitingAt(runId: string, key: string): Promise<void> {
  const cairn = t?.cairn;
  if (!cairn) throw new Error("no engine");
  await waitForRun(
    cairn,
    runId,
    async () => {
      const run = await cairn.getRun(runId);
      return run.status === "waiting" && run.steps.some((s) => s.key === key);
    },
    `waiting at ${key}`,
  );
}

const reply = defineWorkflow({ name: "reply" }, async (ctx, orderId: string) => {
  const first = await ctx.waitForAny<{ orderId: string; by?: string }>("first", {
    events: [{ event: "order.paid", match: { orderId } }],
    signals: ["cancel"],
    timeout: "1d",
  });
  return first;
});

describe("ctx.waitForAny", () => {
  it("returns the first event, with its kind, name and data", async () => {
    t = await testCairn({ workflows: [reply] });
    const run = await t.cairn.start(reply, "o1");
    await waitingAt(run.id, "first");
    await t.cairn.sendEvent("order.paid", { orderId: "o2" }); // another order's: no match
    expect((await t.cairn.getRun(run.id)).status).toBe("waiting");
    await t.cairn.sendEvent("order.paid", { orderId: "o1", by: "card" });
    expect(await run.result()).toEqual({
      kind: "event",
      name: "order.paid",
      data: { orderId: "o1", by: "card" },
    });
  });

  it("returns a signal; the event that comes later is left for a later wait", async () => {
    const loop = defineWorkflow({ name: "cancel-then-wait" }, async (ctx, orderId: string) => {
      const first = await ctx.waitForAny("first", {
        events: [{ event: "order.paid", match: { orderId } }],
        signals: ["cancel"],
      });
      const later = await ctx.waitForEvent("later", {
        event: "order.paid",
        match: { orderId },
      });
      return { first, later: later?.id };
    });
    const other = defineWorkflow({ name: "other-order-waiter" }, async (ctx) => {
      const paid = await ctx.waitForEvent("paid", { event: "order.paid" });
      return paid?.id;
    });
    t = await testCairn({ workflows: [loop, other] });
    const run = await t.cairn.start(loop, "o1");
    const bystander = await t.cairn.start(other, undefined);
    await waitingAt(run.id, "first");
    await waitingAt(bystander.id, "paid");
    await t.cairn.signal(run.id, "cancel", { reason: "changed mind" });
    await waitingAt(run.id, "later");
    await t.cairn.sendEvent("order.paid", { orderId: "o1" }, { id: "paid-1" });
    expect(await run.result()).toEqual({
      first: { kind: "signal", name: "cancel", data: { reason: "changed mind" } },
      later: "paid-1",
    });
    expect(await bystander.result()).toBe("paid-1");
  });

  it("keeps a signal it did not choose for a later waitForSignal", async () => {
    const wf = defineWorkflow({ name: "both-buffered" }, async (ctx) => {
      await ctx.sleep("let-both-arrive", "1h");
      const first = await ctx.waitForAny("first", { signals: ["a", "b"] });
      const b = await ctx.waitForSignal("b", { timeout: "1m" });
      return { first, b };
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await waitingAt(run.id, "let-both-arrive");
    await t.cairn.signal(run.id, "a", 1);
    await t.cairn.signal(run.id, "b", 2);
    t.clock.advance("1h");
    expect(await run.result()).toEqual({ first: { kind: "signal", name: "a", data: 1 }, b: 2 });
  });

  it("returns null at the timeout, and a late event is not taken", async () => {
    t = await testCairn({ workflows: [reply] });
    const run = await t.cairn.start(reply, "o1");
    await waitingAt(run.id, "first");
    t.clock.advance("1d");
    expect(await run.result()).toBeNull();
    await t.cairn.sendEvent("order.paid", { orderId: "o1" });
    expect(await run.result()).toBeNull();
  });

  it("replays its recorded outcome after the run resumes", async () => {
    const seen: (AnyOutcome | null)[] = [];
    const wf = defineWorkflow({ name: "any-then-sleep" }, async (ctx) => {
      const first = await ctx.waitForAny("first", { signals: ["go"], events: [{ event: "x" }] });
      seen.push(first);
      await ctx.sleep("nap", "1h");
      return first;
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await waitingAt(run.id, "first");
    await t.cairn.signal(run.id, "go", "now");
    await waitingAt(run.id, "nap");
    t.clock.advance("1h");
    const outcome = { kind: "signal", name: "go", data: "now" };
    expect(await run.result()).toEqual(outcome);
    expect(seen).toEqual([outcome, outcome]); // the replay after the sleep saw the same
    const step = (await t.cairn.getRun(run.id)).steps.find((s) => s.key === "first");
    expect(step).toMatchObject({ kind: "any", status: "completed" });
  });

  it("rejects bad options with an error naming the wait", async () => {
    const wf = defineWorkflow({ name: "empty-any" }, async (ctx) => {
      return ctx.waitForAny("nothing", { events: [], signals: [] });
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await expect(run.result()).rejects.toThrow(
      'waitForAny("nothing") needs at least one event or signal',
    );
  });

  // The event arrives at each point of the run's way into suspension: while the workflow
  // still runs (before the wait), between the wait's registration and its commit, at the
  // same time as the commit, after the commit but before the worker lets go, and once the
  // run waits. Each time the run takes it exactly once.
  const points = [
    "before the wait",
    "before the commit",
    "with the commit",
    "after the commit",
    "once waiting",
  ] as const;
  for (const point of points) {
    it(`takes an event sent ${point}, once`, async () => {
      let send: () => Promise<unknown> = async () => {};
      const wf = defineWorkflow({ name: "race" }, async (ctx) => {
        if (point === "before the wait") await ctx.step("send", () => send());
        return ctx.waitForAny("first", { events: [{ event: "go" }], signals: ["stop"] });
      });
      t = await testCairn({ workflows: [wf] });
      const cairn = t.cairn;
      send = () => cairn.sendEvent("go", { point }, { id: "go-1" });
      const store = cairn.store;
      const commit = store.commit.bind(store);
      const suspends = (ops: readonly JournalOp[]) => ops.some((op) => op.type === "suspend");
      store.commit = async (ops) => {
        if (!suspends(ops)) return commit(ops);
        if (point === "before the commit") await send();
        if (point === "with the commit") {
          const [results] = await Promise.all([commit(ops), send()]);
          return results;
        }
        const results = await commit(ops);
        if (point === "after the commit") await send();
        return results;
      };
      const run = await cairn.start(wf, undefined);
      if (point === "once waiting") {
        await waitForStatus(cairn, run.id, "waiting");
        await send();
      }
      expect(await run.result()).toEqual({ kind: "event", name: "go", data: { point } });
      const { steps } = await cairn.getRun(run.id);
      expect(steps.filter((s) => s.key === "first")).toHaveLength(1);
    });
  }
});
