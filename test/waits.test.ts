import { afterEach, describe, expect, it } from "vitest";
import { defineWorkflow, RunCancelledError } from "../src/index.ts";
import {
  nextEngineEvent,
  type TestCairn,
  waitForRun,
  waitForStatus,
} from "../src/testing/index.ts";
import { testCairn } from "./support/engine.ts";

let t: TestCairn | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function waitForStep(runId: string, key: string, status: string): Promise<void> {
  const cairn = t?.cairn;
  if (!cairn) throw new Error("no engine");
  await waitForRun(
    cairn,
    runId,
    async () => {
      const run = await cairn.getRun(runId);
      return (
        run.status === "waiting" && run.steps.some((s) => s.key === key && s.status === status)
      );
    },
    `step ${key} reaching ${status}`,
  );
}

describe("durable sleep", () => {
  it("sleeps 30 days on the test clock, holding no worker slot, then finishes", async () => {
    let before = 0;
    const wf = defineWorkflow({ name: "month" }, async (ctx) => {
      await ctx.step("before", () => before++);
      await ctx.sleep("a-month", "30d");
      return ctx.step("after", () => "woke");
    });
    t = await testCairn({ workflows: [wf] });
    const worker = await t.cairn.worker();
    const run = await t.cairn.start(wf, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    expect(worker.activeCount).toBe(0);
    const waiting = await t.cairn.getRun(run.id);
    expect(waiting.steps[1]).toMatchObject({ key: "a-month", kind: "sleep", status: "waiting" });
    t.clock.advance("29d");
    // A second run is claimed in a claim pass after the advance, which would also have
    // taken the first one had its timer been due.
    const probe = await t.cairn.start(wf, undefined);
    await waitForStatus(t.cairn, probe.id, "waiting");
    expect((await t.cairn.getRun(run.id)).status).toBe("waiting");
    t.clock.advance("1d");
    expect(await run.result()).toBe("woke");
    expect(before).toBe(2); // once per run: the replay after the sleep did not re-run it
  });

  it("sleepUntil a past time returns at once", async () => {
    const wf = defineWorkflow({ name: "past" }, async (ctx) => {
      await ctx.sleepUntil("then", new Date(0));
      return "ok";
    });
    t = await testCairn({ workflows: [wf] });
    expect(await (await t.cairn.start(wf, undefined)).result()).toBe("ok");
  });
});

describe("waitForEvent", () => {
  const approval = defineWorkflow({ name: "approval" }, async (ctx, orderId: string) => {
    const event = await ctx.waitForEvent<{ orderId: string; by: string }>("approval", {
      event: "order.approved",
      match: { orderId },
      timeout: "1d",
    });
    return event ? `approved by ${event.data.by}` : "timed out";
  });

  it("resumes on a matching event and ignores others", async () => {
    t = await testCairn({ workflows: [approval] });
    const run = await t.cairn.start(approval, "o1");
    await waitForStatus(t.cairn, run.id, "waiting");
    await t.cairn.sendEvent("order.approved", { orderId: "o2", by: "mallory" });
    await t.cairn.sendEvent("order.other", { orderId: "o1", by: "eve" });
    // A matching event queues the waiting run in the same transaction that stores it.
    expect((await t.cairn.getRun(run.id)).status).toBe("waiting");
    await t.cairn.sendEvent("order.approved", { orderId: "o1", by: "alice" });
    expect(await run.result()).toBe("approved by alice");
  });

  it("returns null when the 1-day timeout passes", async () => {
    t = await testCairn({ workflows: [approval] });
    const run = await t.cairn.start(approval, "o1");
    await waitForStatus(t.cairn, run.id, "waiting");
    t.clock.advance("1d");
    expect(await run.result()).toBe("timed out");
    // A late event changes nothing.
    await t.cairn.sendEvent("order.approved", { orderId: "o1", by: "late" });
    expect(await run.result()).toBe("timed out");
  });

  it("takes an event sent after the run started but before the wait began", async () => {
    const slow = defineWorkflow({ name: "slow-approval" }, async (ctx, orderId: string) => {
      await ctx.sleep("first", "1h");
      const event = await ctx.waitForEvent("approval", { event: "approved", match: { orderId } });
      return event?.id;
    });
    t = await testCairn({ workflows: [slow] });
    const run = await t.cairn.start(slow, "o9");
    await waitForStatus(t.cairn, run.id, "waiting");
    await t.cairn.sendEvent("approved", { orderId: "o9" }, { id: "evt-early" });
    t.clock.advance("1h");
    expect(await run.result()).toBe("evt-early");
  });

  it("dedupes events by id: a redelivered event resumes nothing twice", async () => {
    const twice = defineWorkflow({ name: "twice" }, async (ctx) => {
      const a = await ctx.waitForEvent("a", { event: "ping" });
      const b = await ctx.waitForEvent("b", { event: "ping", timeout: "1h" });
      return [a?.id, b?.id ?? null];
    });
    t = await testCairn({ workflows: [twice] });
    const run = await t.cairn.start(twice, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    expect(await t.cairn.sendEvent("ping", {}, { id: "evt-1" })).toMatchObject({
      id: "evt-1",
      duplicate: false,
    });
    await waitForStep(run.id, "b", "waiting");
    expect(await t.cairn.sendEvent("ping", {}, { id: "evt-1" })).toMatchObject({
      id: "evt-1",
      duplicate: true,
    });
    t.clock.advance("1h");
    expect(await run.result()).toEqual(["evt-1", null]);
  });

  it("one event resumes every run waiting for it", async () => {
    t = await testCairn({ workflows: [approval] });
    const runs = await Promise.all(
      ["o1", "o1", "o1"].map((o, i) => t?.cairn.start(approval, o, { id: `r${i}` })),
    );
    for (const run of runs) if (run) await waitForStatus(t.cairn, run.id, "waiting");
    await t.cairn.sendEvent("order.approved", { orderId: "o1", by: "bob" });
    for (const run of runs) expect(await run?.result()).toBe("approved by bob");
  });
});

describe("signals", () => {
  it("buffers signals in order until the run asks for them", async () => {
    const wf = defineWorkflow({ name: "signals" }, async (ctx) => {
      await ctx.sleep("first", "1m");
      const a = await ctx.waitForSignal<number>("next");
      const b = await ctx.waitForSignal<number>("next");
      const c = await ctx.waitForSignal<number>("next", { timeout: "5m" });
      return [a, b, c];
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    await t.cairn.signal(run.id, "next", 1);
    await t.cairn.signal(run.id, "next", 2);
    t.clock.advance("1m");
    // Wait until the third wait is registered, so its timeout counts from this time.
    await waitForStep(run.id, "next#3", "waiting");
    t.clock.advance("5m");
    expect(await run.result()).toEqual([1, 2, null]);
  });

  it("rejects a signal to an unknown or finished run", async () => {
    const wf = defineWorkflow({ name: "quick" }, async () => "done");
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await run.result();
    await expect(t.cairn.signal(run.id, "x", {})).rejects.toMatchObject({ code: "RUN_NOT_ACTIVE" });
    await expect(t.cairn.signal("missing", "x", {})).rejects.toMatchObject({
      code: "RUN_NOT_FOUND",
    });
  });
});

describe("child workflows", () => {
  const child = defineWorkflow({ name: "child" }, async (ctx, n: number) => {
    await ctx.sleep("think", "1m");
    if (n < 0) throw new Error("negative");
    return ctx.step("double", () => n * 2);
  });
  const parent = defineWorkflow({ name: "parent" }, async (ctx, n: number) => {
    const doubled = await ctx.invoke("child", child, n);
    return doubled + 1;
  });

  it("waits for the child without holding a slot and gets its result", async () => {
    t = await testCairn({ workflows: [parent, child] });
    const run = await t.cairn.start(parent, 5);
    await waitForStatus(t.cairn, run.id, "waiting");
    await waitForStatus(t.cairn, `${run.id}/child`, "waiting");
    t.clock.advance("1m");
    expect(await run.result()).toBe(11);
    expect((await t.cairn.getRun(run.id)).steps[0]).toMatchObject({
      kind: "invoke",
      childRunId: `${run.id}/child`,
      output: 10,
    });
    const info = await t.cairn.getRun(`${run.id}/child`);
    expect(info.parentId).toBe(run.id);
    expect(info.status).toBe("completed");
  });

  it("a failed child throws its error in the parent", async () => {
    t = await testCairn({ workflows: [parent, child] });
    const run = await t.cairn.start(parent, -1);
    await waitForStatus(t.cairn, `${run.id}/child`, "waiting");
    t.clock.advance("1m");
    await expect(run.result()).rejects.toThrow("negative");
  });

  it("cancelling the parent cancels the child", async () => {
    t = await testCairn({ workflows: [parent, child] });
    const run = await t.cairn.start(parent, 5);
    await waitForStatus(t.cairn, `${run.id}/child`, "waiting");
    await t.cairn.cancel(run.id);
    await expect(run.result()).rejects.toBeInstanceOf(RunCancelledError);
    expect((await t.cairn.getRun(`${run.id}/child`)).status).toBe("cancelled");
  });
});

describe("cancellation", () => {
  it("aborts a running step's signal and ends the run cancelled", async () => {
    let abortedWith: unknown;
    let afterwards = false;
    const wf = defineWorkflow({ name: "long" }, async (ctx) => {
      await ctx.step("wait", ({ signal }) => {
        return new Promise((_, reject) =>
          signal.addEventListener("abort", () => {
            abortedWith = signal.reason;
            reject(signal.reason);
          }),
        );
      });
      afterwards = true;
    });
    t = await testCairn({ workflows: [wf] });
    const started = nextEngineEvent(
      t.cairn,
      (e) => e.type === "step" && e.key === "wait" && e.status === "started",
    );
    const run = await t.cairn.start(wf, undefined);
    await started;
    await t.cairn.cancel(run.id);
    await expect(run.result()).rejects.toBeInstanceOf(RunCancelledError);
    expect(abortedWith).toBeInstanceOf(RunCancelledError);
    expect(afterwards).toBe(false);
    expect((await t.cairn.getRun(run.id)).status).toBe("cancelled");
    // Cancelling again is harmless.
    await t.cairn.cancel(run.id);
  });

  it("cancels a sleeping run", async () => {
    const wf = defineWorkflow({ name: "sleeper" }, async (ctx) => ctx.sleep("zz", "1d"));
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    await t.cairn.cancel(run.id);
    t.clock.advance("1d");
    await expect(run.result()).rejects.toBeInstanceOf(RunCancelledError);
  });

  it("rejects cancelling an unknown run", async () => {
    t = await testCairn({ workflows: [] });
    await expect(t.cairn.cancel("nope")).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
  });
});

describe("run timeout", () => {
  it("fails a run that outlives its workflow timeout", async () => {
    const wf = defineWorkflow({ name: "limited", timeout: "1h" }, async (ctx) => {
      await ctx.sleep("too-long", "2h");
      return "never";
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    t.clock.advance("1h");
    await expect(run.result()).rejects.toThrow(/exceeded its workflow timeout of 3600000 ms/);
  });
});

describe("retention", () => {
  it("purges runs that finished longer ago than the cut-off", async () => {
    const wf = defineWorkflow({ name: "short" }, async (ctx) => ctx.step("a", () => 1));
    t = await testCairn({ workflows: [wf] });
    const old = await t.cairn.start(wf, undefined);
    await old.result();
    t.clock.advance("31d");
    const recent = await t.cairn.start(wf, undefined);
    await recent.result();
    expect(await t.cairn.purgeRuns("30d")).toBe(1);
    await expect(t.cairn.getRun(old.id)).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    expect((await t.cairn.getRun(recent.id)).status).toBe("completed");
  });
});

describe("close", () => {
  it("lets an in-flight step finish and hands the run back for another worker", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let secondRan = 0;
    const wf = defineWorkflow({ name: "drain" }, async (ctx) => {
      await ctx.step("first", () => gate.then(() => "one"));
      await ctx.step("second", () => secondRan++);
      return "done";
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined, { id: "drain-1" });
    await waitForStatus(t.cairn, run.id, "running");
    const closing = t.cairn.close();
    release();
    await closing;
    expect(secondRan).toBe(0);

    const { Cairn } = await import("../src/index.ts");
    const again = await Cairn.open({ db: t.db, workflows: [wf], clock: t.clock });
    const info = await again.getRun("drain-1");
    expect(info.status).toBe("queued");
    expect(info.steps.map((s) => [s.key, s.status])).toEqual([["first", "completed"]]);
    await again.worker();
    expect(await again.handle("drain-1").result()).toBe("done");
    expect(secondRan).toBe(1);
    await again.close();
  });
});
