import { afterEach, describe, expect, it } from "vitest";
import { defineWorkflow, NonDeterminismError } from "../src/index.ts";
import { type TestCairn, waitForStatus } from "../src/testing/index.ts";
import { testCairn } from "./support/engine.ts";

let t: TestCairn | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const sent: string[] = [];
afterEach(() => {
  sent.length = 0;
});

/** The first deploy: charge, wait a day, ship. */
const original = defineWorkflow({ name: "order" }, async (ctx, id: string) => {
  await ctx.step("charge", () => `charged ${id}`);
  await ctx.sleep("cool-off", "1d");
  await ctx.step("ship", () => `shipped ${id}`);
  return "done";
});

/** The second deploy inserts an SMS between charge and the wait. */
const unpatched = defineWorkflow({ name: "order" }, async (ctx, id: string) => {
  await ctx.step("charge", () => `charged ${id}`);
  await ctx.step("sms", () => sent.push(id));
  await ctx.sleep("cool-off", "1d");
  await ctx.step("ship", () => `shipped ${id}`);
  return "done";
});

const patched = defineWorkflow({ name: "order" }, async (ctx, id: string) => {
  await ctx.step("charge", () => `charged ${id}`);
  if (ctx.patched("send-sms")) await ctx.step("sms", () => sent.push(id));
  await ctx.sleep("cool-off", "1d");
  await ctx.step("ship", () => `shipped ${id}`);
  return "done";
});

/** Once no run from before the patch remains: the `if` and the old path are gone. */
const deprecated = defineWorkflow({ name: "order" }, async (ctx, id: string) => {
  await ctx.step("charge", () => `charged ${id}`);
  ctx.deprecatePatch("send-sms");
  await ctx.step("sms", () => sent.push(id));
  await ctx.sleep("cool-off", "1d");
  await ctx.step("ship", () => `shipped ${id}`);
  return "done";
});

async function keys(runId: string): Promise<string[]> {
  return (await (t as TestCairn).cairn.getRun(runId)).steps.map((s) => `${s.kind}:${s.key}`);
}

describe("ctx.patched", () => {
  it("without a patch, a step inserted before a recorded point fails the run in flight", async () => {
    t = await testCairn({ workflows: [original] });
    const run = await t.cairn.start(original, "o1");
    await waitForStatus(t.cairn, run.id, "waiting");
    await t.cairn.reload([unpatched]);
    t.clock.advance("1d");
    const error = await run.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonDeterminismError);
    expect(sent).toEqual([]);
  });

  it("a run in flight takes the old path; a new run journals the marker and the new step", async () => {
    t = await testCairn({ workflows: [original] });
    const old = await t.cairn.start(original, "old");
    await waitForStatus(t.cairn, old.id, "waiting");
    await t.cairn.reload([patched]);
    expect(await t.cairn.replay(old.id)).toMatchObject({ result: "consistent" });

    const fresh = await t.cairn.start(patched, "new");
    await waitForStatus(t.cairn, fresh.id, "waiting");
    t.clock.advance("1d");
    expect(await old.result()).toBe("done");
    expect(await fresh.result()).toBe("done"); // replayed after the wait: the marker says true
    expect(sent).toEqual(["new"]);
    expect(await keys(old.id)).toEqual(["step:charge", "sleep:cool-off", "step:ship"]);
    expect(await keys(fresh.id)).toEqual([
      "step:charge",
      "patch:patch:send-sms",
      "step:sms",
      "sleep:cool-off",
      "step:ship",
    ]);
  });

  it("a run reaching the patch point for the first time under the new code takes the new path", async () => {
    const before = defineWorkflow({ name: "order" }, async (ctx) => {
      await ctx.sleep("cool-off", "1d");
      return "done";
    });
    const after = defineWorkflow({ name: "order" }, async (ctx) => {
      await ctx.sleep("cool-off", "1d");
      if (ctx.patched("send-sms")) await ctx.step("sms", () => sent.push("late"));
      return "done";
    });
    t = await testCairn({ workflows: [before] });
    const run = await t.cairn.start(before, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    await t.cairn.reload([after]);
    t.clock.advance("1d");
    expect(await run.result()).toBe("done");
    expect(sent).toEqual(["late"]);
  });

  it("answers alike for one id within a run, journaling one marker", async () => {
    const looped = defineWorkflow({ name: "looped" }, async (ctx) => {
      const answers: boolean[] = [];
      for (let i = 0; i < 3; i++) {
        answers.push(ctx.patched("p"));
        await ctx.step("s", () => i);
      }
      return answers;
    });
    t = await testCairn({ workflows: [looped] });
    const run = await t.cairn.start(looped, undefined);
    expect(await run.result()).toEqual([true, true, true]);
    expect(await keys(run.id)).toEqual(["patch:patch:p", "step:s", "step:s#2", "step:s#3"]);
  });

  it("deprecatePatch replays runs that journaled the marker and journals nothing for new runs", async () => {
    t = await testCairn({ workflows: [patched] });
    const marked = await t.cairn.start(patched, "marked");
    await waitForStatus(t.cairn, marked.id, "waiting");
    await t.cairn.reload([deprecated]);
    const fresh = await t.cairn.start(deprecated, "fresh");
    await waitForStatus(t.cairn, fresh.id, "waiting");
    t.clock.advance("1d");
    expect(await marked.result()).toBe("done");
    expect(await fresh.result()).toBe("done");
    expect(sent).toEqual(["marked", "fresh"]);
    expect(await keys(fresh.id)).toEqual([
      "step:charge",
      "step:sms",
      "sleep:cool-off",
      "step:ship",
    ]);
  });

  it("a run that journaled the marker diverges under code without the patch", async () => {
    t = await testCairn({ workflows: [patched] });
    const run = await t.cairn.start(patched, "x");
    await waitForStatus(t.cairn, run.id, "waiting");
    const report = await t.cairn.replay(run.id, unpatched);
    expect(report).toMatchObject({
      result: "diverged",
      divergence: { position: 1, expected: 'patch "patch:send-sms"', found: 'step "sms"' },
    });
  });
});

describe("cairn.replayAll (the deploy gate)", () => {
  it("lists the unfinished runs an inserted step breaks, and none once it is patched", async () => {
    t = await testCairn({ workflows: [original] });
    const done = await t.cairn.start(original, "done");
    await waitForStatus(t.cairn, done.id, "waiting");
    t.clock.advance("1d");
    await done.result();
    const waiting = await t.cairn.start(original, "waiting");
    await waitForStatus(t.cairn, waiting.id, "waiting");

    expect(await t.cairn.replayAll([original], { finished: 5 })).toEqual({
      checked: 2,
      consistent: 2,
      diverged: [],
    });
    const broken = await t.cairn.replayAll([unpatched], { finished: 5 });
    expect(broken).toEqual({
      checked: 2,
      consistent: 0,
      diverged: [
        {
          runId: waiting.id,
          workflow: "order",
          version: 1,
          status: "waiting",
          position: 1,
          expected: 'sleep "cool-off"',
          found: 'step "sms"',
          message:
            'at journal position 1 the journal recorded sleep "cool-off" but the code now calls step "sms"',
        },
        expect.objectContaining({ runId: done.id, status: "completed", position: 1 }),
      ],
    });
    expect(await t.cairn.replayAll([patched], { finished: 5 })).toMatchObject({ diverged: [] });
    // Only the unfinished run without --finished; nothing was executed or written.
    expect(await t.cairn.replayAll([unpatched])).toMatchObject({ checked: 1 });
    expect(sent).toEqual([]);
    expect((await t.cairn.getRun(waiting.id)).status).toBe("waiting");
    await expect(t.cairn.replayAll([patched], { workflow: "nope" })).rejects.toMatchObject({
      code: "WORKFLOW_NOT_FOUND",
    });
  });
});
