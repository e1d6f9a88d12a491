import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineWorkflow } from "../../src/index.ts";
import { waitForStatus } from "../../src/testing/index.ts";
import { type Harness, json, startHarness } from "./harness.ts";

/** Counts executions of each step, to prove a rerun replays what came before its step. */
const executed: Record<string, number> = {};
const count = (key: string) => {
  executed[key] = (executed[key] ?? 0) + 1;
};

const pipeline = defineWorkflow(
  { name: "pipeline", input: z.object({ n: z.number() }), triggers: [{ event: "kick" }] },
  async (ctx, input) => {
    ctx.log.info("start", { n: input.n });
    const a = await ctx.step("extract", (s) => {
      count("extract");
      s.log.info("extracting");
      return input.n + 1;
    });
    const b = await ctx.step("transform", () => {
      count("transform");
      console.log("transforming", a);
      return a * 10;
    });
    return ctx.step("load", () => {
      count("load");
      return { a, b, n: input.n };
    });
  },
);

const waiter = defineWorkflow({ name: "waiter" }, async (ctx) => {
  const got = await ctx.waitForEvent("wait", { event: "ping", timeout: "1h" });
  return got?.data ?? null;
});

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workflows: [pipeline, waiter] });
});
afterAll(async () => {
  await h.close();
});

type LogPage = {
  logs: { seq: number; stepKey: string | null; message: string }[];
  nextSeq: number;
};

describe("web UI endpoints", () => {
  it("serves a run's logs, by step and after a seq", async () => {
    const run = await h.cairn.start(pipeline, { n: 1 }, { id: "logs-1" });
    await run.result();
    await h.cairn.logWriter.idle();
    const all = await json<LogPage>(await h.fetch("/api/v1/runs/logs-1/logs"));
    expect(all.logs.map((l) => [l.stepKey, l.message])).toEqual([
      [null, "start"],
      ["extract", "extracting"],
      ["transform", "transforming 2"],
    ]);
    const first = all.logs[0]?.seq ?? 0;
    const after = await json<LogPage>(
      await h.fetch(`/api/v1/runs/logs-1/logs?afterSeq=${first}&limit=1`),
    );
    expect(after.logs.map((l) => l.message)).toEqual(["extracting"]);
    expect(after.nextSeq).toBe(all.logs[1]?.seq);
    const step = await json<LogPage>(await h.fetch("/api/v1/runs/logs-1/logs?step=transform"));
    expect(step.logs.map((l) => l.message)).toEqual(["transforming 2"]);
    expect((await h.fetch("/api/v1/runs/nope/logs")).status).toBe(404);
  });

  it("filters the run list by tag, id prefix and time", async () => {
    await (
      await h.cairn.start(pipeline, { n: 2 }, { id: "tagged-a", tags: { team: "x" } })
    ).result();
    await (
      await h.cairn.start(pipeline, { n: 3 }, { id: "tagged-b", tags: { team: "y" } })
    ).result();
    const ids = async (query: string) =>
      (await json<{ runs: { id: string }[] }>(await h.fetch(`/api/v1/runs?${query}`))).runs.map(
        (r) => r.id,
      );
    expect(await ids("tag=team:x")).toEqual(["tagged-a"]);
    expect(await ids("tag=team:x&tag=team:y")).toEqual([]);
    expect(await ids("idPrefix=tagged-")).toEqual(["tagged-b", "tagged-a"]);
    expect(await ids("idPrefix=tagged-&from=2100-01-01T00:00:00Z")).toEqual([]);
    expect((await h.fetch("/api/v1/runs?tag=nocolon")).status).toBe(400);
  });

  it("reruns from a step: earlier steps replay, the step and later ones execute", async () => {
    const original = await h.cairn.start(pipeline, { n: 5 }, { id: "orig" });
    await original.result();
    const before = { ...executed };
    const res = await h.post("/api/v1/runs/orig/rerun", {
      fromStep: "transform",
      input: { n: 100 },
    });
    expect(res.status).toBe(201);
    const rerun = await json<{ id: string; tags: Record<string, string>; rerunOf: string }>(res);
    expect(rerun.rerunOf).toBe("orig");
    expect(rerun.tags).toEqual({ rerunOf: "orig", rerunFromStep: "transform" });
    expect(await h.cairn.handle(rerun.id).result()).toEqual({ a: 6, b: 60, n: 100 });
    expect(executed.extract).toBe(before.extract);
    expect(executed.transform).toBe((before.transform ?? 0) + 1);
    const bad = await h.post("/api/v1/runs/orig/rerun", { fromStep: "nope" });
    expect(bad.status).toBe(400);
    expect((await json<{ detail: string }>(bad)).detail).toContain("extract, transform, load");
  });

  it("cancels in bulk by filter, with a dry run first", async () => {
    for (const i of [1, 2, 3]) await h.cairn.start(waiter, undefined, { id: `bulk-${i}` });
    for (const i of [1, 2, 3]) await waitForStatus(h.cairn, `bulk-${i}`, "waiting");
    const filter = { workflow: "waiter", idPrefix: "bulk-" };
    const dry = await json(
      await h.post("/api/v1/runs/bulk", { action: "cancel", filter, dryRun: true }),
    );
    expect(dry).toEqual({ matched: 3, affected: 0, ids: ["bulk-3", "bulk-2", "bulk-1"] });
    expect((await h.cairn.getRun("bulk-1")).status).toBe("waiting");
    const done = await json<{ affected: number }>(
      await h.post("/api/v1/runs/bulk", { action: "cancel", filter }),
    );
    expect(done.affected).toBe(3);
    expect((await h.cairn.getRun("bulk-2")).status).toBe("cancelled");
    const retried = await json(
      await h.post("/api/v1/runs/bulk", { action: "retry", ids: ["bulk-1", "nope"] }),
    );
    expect(retried).toEqual({ matched: 1, affected: 1, ids: ["bulk-1"] });
    const both = await h.post("/api/v1/runs/bulk", { action: "cancel", filter, ids: ["x"] });
    expect(both.status).toBe(400);
  });

  it("shows step states, waits and attempts; a cancelled run's wait as cancelled", async () => {
    await h.cairn.start(waiter, undefined, { id: "w-cancel" });
    await waitForStatus(h.cairn, "w-cancel", "waiting");
    await h.cairn.cancel("w-cancel");
    const steps = await json<{ steps: { key: string; state: string; waitFor: unknown }[] }>(
      await h.fetch("/api/v1/runs/w-cancel/steps"),
    );
    expect(steps.steps[0]).toMatchObject({
      key: "wait",
      state: "cancelled",
      waitFor: { event: "ping" },
    });

    await h.cairn.start(waiter, undefined, { id: "w-timeout" });
    await waitForStatus(h.cairn, "w-timeout", "waiting");
    h.clock.advance("2h");
    await waitForStatus(h.cairn, "w-timeout", "completed");
    const timedOut = await json<{ steps: { state: string }[]; children: string[]; version: null }>(
      await h.fetch("/api/v1/runs/w-timeout"),
    );
    expect(timedOut.steps[0]?.state).toBe("timedOut");
    expect(timedOut.children).toEqual([]);

    const run = await json<{ steps: { key: string; attempts?: { attempt: number }[] }[] }>(
      await h.fetch("/api/v1/runs/orig"),
    );
    expect(run.steps[0]).toMatchObject({ key: "extract", attempts: [{ attempt: 1 }] });
  });

  it("lists workflows with input schema, options and triggers", async () => {
    const { workflows } = await json<{
      workflows: { name: string; inputSchema: unknown; options: unknown; triggers: unknown }[];
    }>(await h.fetch("/api/v1/workflows"));
    const p = workflows.find((w) => w.name === "pipeline");
    expect(p?.inputSchema).toMatchObject({
      type: "object",
      properties: { n: { type: "number" } },
    });
    expect(p?.options).toMatchObject({ queue: "default", concurrency: null });
    expect(p?.triggers).toEqual([{ event: "kick", if: null }]);
    expect(workflows.find((w) => w.name === "waiter")?.inputSchema).toBeNull();
  });

  it("lists events with the runs they started and woke", async () => {
    await h.cairn.start(waiter, undefined, { id: "w-ping" });
    await waitForStatus(h.cairn, "w-ping", "waiting");
    await h.post("/api/v1/events", { name: "ping", data: { x: 1 }, id: "ping-1" });
    await h.post("/api/v1/events", { name: "kick", data: { n: 1 }, id: "kick-1" });
    const { events } = await json<{
      events: { id: string; data: unknown; started: string[]; woke: string[] }[];
    }>(await h.fetch("/api/v1/events?limit=10"));
    const ping = events.find((e) => e.id === "ping-1");
    expect(ping).toMatchObject({ data: { x: 1 }, started: [], woke: ["w-ping"] });
    expect(events.find((e) => e.id === "kick-1")?.started).toHaveLength(1);
  });

  it("lists the live worker of this process", async () => {
    const { workers } = await json<{ workers: { pid: number; workflows: string[] }[] }>(
      await h.fetch("/api/v1/workers"),
    );
    expect(workers).toHaveLength(1);
    // Every worker also runs the built-in workflow of flow step tests; it is not listed.
    expect(workers[0]).toMatchObject({
      pid: process.pid,
      workflows: ["pipeline", "waiter"],
    });
  });
});
