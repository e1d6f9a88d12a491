import { afterEach, describe, expect, it } from "vitest";
import type { EngineEvent } from "../src/core/engine-event.ts";
import type { RunId } from "../src/core/types.ts";
import { defineWorkflow } from "../src/index.ts";
import { nextEngineEvent, type TestCairn, waitForStatus } from "../src/testing/index.ts";
import { testCairn } from "./support/engine.ts";

let t: TestCairn | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe("engine events", () => {
  it("reports run statuses and each step's start, retry and end", async () => {
    let calls = 0;
    const wf = defineWorkflow({ name: "observed" }, async (ctx) => {
      await ctx.step("a", () => 1);
      await ctx.step("b", { retry: { maxAttempts: 2, initialInterval: 0 } }, () => {
        if (++calls === 1) throw new Error("once");
        return 2;
      });
      await ctx.sleep("nap", "1m");
      return "ok";
    });
    t = await testCairn({ workflows: [wf] });
    const events: EngineEvent[] = [];
    const stop = t.cairn.subscribe((e) => events.push(e));
    const run = await t.cairn.start(wf, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    // result() can resolve before the run's last event reaches the listeners.
    const completed = nextEngineEvent(
      t.cairn,
      (e) => e.type === "run" && e.runId === run.id && e.status === "completed",
    );
    t.clock.advance("1m");
    await run.result();
    await completed;
    stop();
    const seen = events.map((e) =>
      e.type === "run"
        ? `run:${e.status}`
        : e.type === "step"
          ? `${e.key}:${e.status}:${e.attempt}`
          : "claim",
    );
    expect(seen).toEqual([
      "run:queued",
      "run:running",
      "a:started:1",
      "a:completed:1",
      "b:started:1",
      "b:retrying:1",
      "b:started:2",
      "b:completed:2",
      "run:waiting",
      "claim",
      "run:running",
      "run:completed",
    ]);
    const failed = events.find((e) => e.type === "step" && e.status === "retrying");
    expect(failed).toMatchObject({ error: { name: "Error", message: "once" } });
  });
});

describe("retry", () => {
  it("re-runs a failed run from its last checkpoint", async () => {
    const effects: string[] = [];
    let fail = true;
    const wf = defineWorkflow({ name: "retryable" }, async (ctx) => {
      await ctx.step("charge", () => effects.push("charge"));
      await ctx.step("ship", { retry: { maxAttempts: 1 } }, () => {
        effects.push("ship");
        if (fail) throw new Error("carrier down");
      });
      return "shipped";
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await expect(run.result()).rejects.toThrow("carrier down");
    fail = false;
    await t.cairn.retry(run.id);
    expect(await run.result()).toBe("shipped");
    expect(effects).toEqual(["charge", "ship", "ship"]);
    const info = await t.cairn.getRun(run.id);
    expect(info.error).toBeNull();
    expect(info.steps.map((s) => [s.key, s.status])).toEqual([
      ["charge", "completed"],
      ["ship", "completed"],
    ]);
  });

  it("refuses to retry a run that has not failed", async () => {
    const wf = defineWorkflow({ name: "fine" }, async () => "ok");
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await run.result();
    await expect(t.cairn.retry(run.id)).rejects.toMatchObject({ code: "INVALID_STATE" });
    await expect(t.cairn.retry("missing")).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
  });
});

describe("queue stats", () => {
  it("counts due, running and waiting runs", async () => {
    const sleeper = defineWorkflow({ name: "sleeper" }, async (ctx) => ctx.sleep("z", "1h"));
    t = await testCairn({ workflows: [sleeper] });
    for (let i = 0; i < 3; i++) {
      const run = await t.cairn.start(sleeper, undefined);
      await waitForStatus(t.cairn, run.id, "waiting");
    }
    expect(await t.cairn.queueStats()).toEqual({
      due: 0,
      oldestDueAt: null,
      running: 0,
      waiting: 3,
    });
  });
});

describe("replay", () => {
  const steps = (names: string[]) =>
    defineWorkflow({ name: "replayed" }, async (ctx) => {
      for (const name of names) await ctx.step(name, () => name);
      await ctx.sleep("wait", "1h");
      return "done";
    });

  it("reports consistent code and where the recorded history ends, running nothing", async () => {
    const wf = steps(["charge", "ship"]);
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    let ran = 0;
    const same = defineWorkflow({ name: "replayed" }, async (ctx) => {
      await ctx.step("charge", () => ran++);
      await ctx.step("ship", () => ran++);
      await ctx.sleep("wait", "1h");
      await ctx.step("email", () => ran++);
    });
    const report = await t.cairn.replay(run.id, same);
    expect(report).toMatchObject({
      result: "consistent",
      replayedPositions: 2,
      next: { position: 2, kind: "sleep", key: "wait" },
    });
    expect(ran).toBe(0);
    expect((await t.cairn.getRun(run.id)).status).toBe("waiting"); // nothing written
  });

  it("reports a divergence with the expected and the found step", async () => {
    const wf = steps(["charge", "ship"]);
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    const report = await t.cairn.replay(run.id, steps(["charge", "email"]));
    expect(report).toMatchObject({
      result: "diverged",
      replayedPositions: 1,
      divergence: { position: 1, expected: 'step "ship"', found: 'step "email"' },
    });
    expect((await t.cairn.getRun(run.id)).status).toBe("waiting");
  });

  it("replays a finished run to its end", async () => {
    const wf = defineWorkflow({ name: "done" }, async (ctx) => ctx.step("a", () => 1));
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await run.result();
    expect(await t.cairn.replay(run.id)).toMatchObject({
      result: "consistent",
      finished: "completed",
      replayedPositions: 1,
    });
  });
});

describe("starting a workflow from a process without its code", () => {
  it("waits unadmitted until a worker with the code validates and admits it", async () => {
    const { z } = await import("zod");
    const { Cairn } = await import("../src/index.ts");
    const typed = defineWorkflow(
      {
        name: "typed",
        input: z.object({ n: z.number() }),
        concurrency: { limit: 1, key: (i: { n: number }) => String(i.n) },
      },
      async (ctx, input: { n: number }) => ctx.step("double", () => input.n * 2),
    );
    t = await testCairn({ workflows: [typed] });
    const server = await Cairn.open({ db: t.db, clock: t.clock });
    expect((await server.knownWorkflows()).map((w) => [w.name, w.local])).toEqual([
      ["typed", false],
    ]);
    const good = await server.start("typed", { n: 21 });
    const bad = await server.start("typed", { n: "x" });
    await expect(server.start("unknown", {})).rejects.toMatchObject({ code: "WORKFLOW_NOT_FOUND" });
    // Created without validation; the worker may already be on it: it wakes when another
    // connection commits (NOTIFY on PostgreSQL, data_version on SQLite).
    expect(["queued", "running", "completed"]).toContain((await server.getRun(good.id)).status);
    t.clock.advance("1s"); // else the worker's poll admits and claims
    expect(await t.cairn.handle(good.id).result()).toBe(42);
    await expect(t.cairn.handle(bad.id).result()).rejects.toThrow(
      /Invalid input for workflow "typed": at n:/,
    );
    expect(
      (await t.cairn.listRuns({ workflow: "typed" })).find((r) => r.id === good.id)?.concurrencyKey,
    ).toBe("21");
    await server.close();
  });

  it("a worker takes the runs it admits in the admission's write, as many as it has slots", async () => {
    const { Cairn } = await import("../src/index.ts");
    let open!: () => void;
    const gate = new Promise<number>((resolve) => (open = () => resolve(1)));
    const held = defineWorkflow({ name: "held" }, async (ctx) => ctx.step("wait", () => gate));
    t = await testCairn({ workflows: [held], concurrency: 2 });
    const claimPasses: EngineEvent[] = [];
    const stop = t.cairn.subscribe((e) => e.type === "claim" && claimPasses.push(e));
    const server = await Cairn.open({ db: t.db, clock: t.clock });
    const ids: RunId[] = [];
    for (let i = 0; i < 3; i++) ids.push((await server.start("held", i)).id);
    t.clock.advance("1s"); // the poll, should a wake-up be missed
    const statuses = async () =>
      (await Promise.all(ids.map((id) => t?.cairn.getRun(id)))).map((r) => r?.status).sort();
    await expect.poll(statuses).toEqual(["queued", "running", "running"]);
    // Both slots were filled by admissions, not by a claim after them.
    expect(claimPasses).toEqual([]);
    open();
    for (const id of ids) expect(await t.cairn.handle(id).result()).toBe(1);
    stop();
    await server.close();
  });

  it("admits a backlog larger than one admission batch without waiting for a poll", async () => {
    const { Cairn } = await import("../src/index.ts");
    const quick = defineWorkflow({ name: "quick" }, async (ctx, n: number) =>
      ctx.step("a", () => n),
    );
    t = await testCairn({ workflows: [] });
    // Registers the workflow; its worker starts once the backlog is there.
    const worker = await Cairn.open({ db: t.db, clock: t.clock, workflows: [quick] });
    const ids: RunId[] = [];
    for (let i = 0; i < 150; i++) ids.push((await t.cairn.start("quick", i)).id);
    // The test clock never moves: no poll, only wake-ups.
    await worker.worker({ concurrency: 200 });
    const results = await Promise.all(ids.map((id) => worker.handle(id).result()));
    expect(results).toEqual(ids.map((_, i) => i));
    await worker.close();
  });

  it("reads the registered names once, and describes a new run without reading it back", async () => {
    const { Cairn } = await import("../src/index.ts");
    const { openStore } = await import("../src/engine/open-store.ts");
    const named = defineWorkflow({ name: "named" }, async (ctx) => ctx.step("one", () => 1));
    t = await testCairn({ workflows: [named] });
    const reads: string[] = [];
    const inner = await openStore(t.db);
    const counted = ["listWorkflows", "getRun", "getJournal"];
    const store = new Proxy(inner, {
      get(target, prop) {
        if (typeof prop === "string" && counted.includes(prop)) reads.push(prop);
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const server = await Cairn.open({ store, clock: t.clock });
    reads.length = 0; // what opening read
    for (const n of [1, 2]) {
      const { handle, info } = await server.startAndDescribe("named", n);
      expect(info).toMatchObject({ id: handle.id, workflow: "named", input: n, steps: [] });
    }
    expect(reads).toEqual(["listWorkflows"]);
    await server.close();
  });

  it("starts a workflow a worker registered after an unknown-name start failed", async () => {
    const { Cairn } = await import("../src/index.ts");
    t = await testCairn({ workflows: [] });
    // Real clocks here: the worker's poll claims the run even if its wake-up was missed.
    const server = await Cairn.open({ db: t.db });
    await expect(server.start("late", {})).rejects.toMatchObject({ code: "WORKFLOW_NOT_FOUND" });
    // Names the server found unknown are not remembered as unknown.
    const late = defineWorkflow({ name: "late" }, async (ctx) => ctx.step("one", () => 1));
    const worker = await Cairn.open({ db: t.db, workflows: [late] });
    await worker.worker();
    const run = await server.start("late", {});
    expect(await worker.handle(run.id).result()).toBe(1);
    await worker.close();
    await server.close();
  });
});
