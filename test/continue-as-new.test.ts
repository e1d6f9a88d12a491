import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { connect } from "../src/client/index.ts";
import { defineWorkflow } from "../src/index.ts";
import type { TestCairn } from "../src/testing/index.ts";
import { startHarness } from "./server/harness.ts";
import { testCairn } from "./support/engine.ts";

let t: TestCairn | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Counts up to `to`, one run per number: each run's journal holds one step. */
const counter = defineWorkflow(
  { name: "counter", priority: 3 },
  async (ctx, state: { n: number; to: number }) => {
    const n = await ctx.step("tick", () => state.n);
    if (n < state.to) return ctx.continueAsNew({ n: n + 1, to: state.to });
    return `counted to ${n}`;
  },
);

describe("ctx.continueAsNew", () => {
  it("ends the run and starts its successor; result() follows the chain to its end", async () => {
    t = await testCairn({ workflows: [counter] });
    const run = await t.cairn.start(counter, { n: 1, to: 3 }, { id: "count", tags: { team: "a" } });
    expect(await run.result()).toBe("counted to 3");

    const first = await t.cairn.getRun("count");
    expect(first).toMatchObject({
      status: "completed",
      output: undefined,
      continuedFrom: null,
      continuedTo: "count~2",
    });
    expect(first.steps.map((s) => s.key)).toEqual(["tick"]); // the journal stays short
    const second = await t.cairn.getRun("count~2");
    expect(second).toMatchObject({
      status: "completed",
      input: { n: 2, to: 3 },
      continuedFrom: "count",
      continuedTo: "count~3",
    });
    const last = await t.cairn.getRun("count~3");
    expect(last).toMatchObject({
      status: "completed",
      output: "counted to 3",
      continuedFrom: "count~2",
      continuedTo: null,
    });
    expect(last.steps).toHaveLength(1);
    // Same options (the workflow's priority) and the first run's tags.
    const record = await t.cairn.store.getRun(last.id);
    expect(record?.priority).toBe(3);
    expect(await t.cairn.store.tags.get([last.id])).toEqual(new Map([[last.id, { team: "a" }]]));
    // Any run of the chain answers with the chain's result.
    expect(await t.cairn.handle("count~2").result()).toBe("counted to 3");
  });

  it("validates the new input against the workflow's schema, failing at the call", async () => {
    const strict = defineWorkflow(
      { name: "strict-loop", input: z.object({ n: z.number() }) },
      async (ctx, input: { n: number }) => {
        if (input.n > 0) return "done";
        try {
          await ctx.continueAsNew({ n: "one" });
        } catch (error) {
          return `refused: ${(error as Error).message}`;
        }
        return "unreachable";
      },
    );
    t = await testCairn({ workflows: [strict] });
    const run = await t.cairn.start(strict, { n: 0 });
    expect(await run.result()).toMatch(/^refused: Invalid input for workflow "strict-loop": at n:/);
    expect((await t.cairn.getRun(run.id)).continuedTo).toBeNull();
  });

  it("a child that continues as new resolves its parent with the last run's result", async () => {
    const parent = defineWorkflow({ name: "parent-of-counter" }, async (ctx) => {
      const counted = await ctx.invoke("count", counter, { n: 1, to: 4 });
      return `child says ${counted}`;
    });
    t = await testCairn({ workflows: [parent, counter] });
    const run = await t.cairn.start(parent, undefined, { id: "p" });
    expect(await run.result()).toBe("child says counted to 4");
    const chainEnd = await t.cairn.getRun("p/count~4");
    expect(chainEnd).toMatchObject({ parentId: "p", continuedFrom: "p/count~3" });
  });

  it("the HTTP run JSON and the remote client follow the links", async () => {
    const h = await startHarness({ workflows: [counter] });
    try {
      const run = await h.cairn.start(counter, { n: 1, to: 2 }, { id: "http-count" });
      expect(await run.result()).toBe("counted to 2");
      const body = (await (await h.fetch("/api/v1/runs/http-count")).json()) as Record<
        string,
        unknown
      >;
      expect(body).toMatchObject({ continuedFrom: null, continuedTo: "http-count~2" });
      const next = (await (await h.fetch("/api/v1/runs/http-count~2")).json()) as Record<
        string,
        unknown
      >;
      expect(next).toMatchObject({ continuedFrom: "http-count", continuedTo: null });
      const remote = connect(h.url);
      expect(await remote.handle("http-count").result()).toBe("counted to 2");
      expect((await remote.getRun("http-count")).continuedTo).toBe("http-count~2");
    } finally {
      await h.close();
    }
  });
});
