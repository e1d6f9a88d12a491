import { afterEach, describe, expect, it } from "vitest";
import {
  CairnError,
  ContextInStepError,
  defineWorkflow,
  NonDeterminismError,
  NonRetryableError,
  UnawaitedCallError,
} from "../src/index.ts";
import { type TestCairn, waitForStatus } from "../src/testing/index.ts";
import { testCairn } from "./support/engine.ts";

let t: TestCairn | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** A step body that holds until its run aborts it, and says whether it was aborted. */
function untilAborted(seen: string[], name: string) {
  return ({ signal }: { signal: AbortSignal }) =>
    new Promise<string>((resolve) => {
      seen.push(`${name} started`);
      signal.addEventListener("abort", () => {
        seen.push(`${name} aborted`);
        resolve("late");
      });
    });
}

describe("an un-awaited ctx call", () => {
  it("fails the run when the workflow returns with it, and its step is aborted", async () => {
    const seen: string[] = [];
    const wf = defineWorkflow({ name: "forgot-await-return" }, async (ctx) => {
      void ctx.step("send-email", untilAborted(seen, "send-email"));
      return "done";
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    const error = await run.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnawaitedCallError);
    expect(error).toMatchObject({ code: "UNAWAITED_CALL" });
    expect((error as Error).message).toContain('ctx.step("send-email") was not awaited');
    expect((error as Error).message).toContain("when the workflow returned");
    expect((error as Error).message).toContain('await ctx.step("send-email")');
    expect((error as Error).message).toContain("Promise.all");
    const info = await t.cairn.getRun(run.id);
    expect(info.status).toBe("failed");
    expect(info.error).toMatchObject({ name: "UnawaitedCallError", code: "UNAWAITED_CALL" });
    // Nothing completed behind the failed run's back.
    expect(info.steps.filter((s) => s.status === "completed")).toEqual([]);
  });

  it("fails the run at the next ctx call of a later turn, naming both calls", async () => {
    const ran: string[] = [];
    const wf = defineWorkflow({ name: "forgot-await-next" }, async (ctx) => {
      void ctx.step("a", () => {
        ran.push("a");
        return 1;
      });
      await ctx.step("b", () => ran.push("b"));
      await ctx.step("c", () => ran.push("c"));
      return "done";
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    const error = await run.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnawaitedCallError);
    expect((error as Error).message).toContain('ctx.step("a") was not awaited');
    expect((error as Error).message).toContain('before ctx.step("c")');
    expect(ran).not.toContain("c");
    const info = await t.cairn.getRun(run.id);
    expect(info.status).toBe("failed");
    expect(info.steps.map((s) => s.key)).not.toContain("c");
  });

  it("is caught even when the workflow catches the error it throws", async () => {
    const wf = defineWorkflow({ name: "forgot-await-caught" }, async (ctx) => {
      void ctx.sleep("nap", "1h");
      await ctx.step("b", () => 1);
      try {
        await ctx.step("c", () => 2);
      } catch {
        // swallowed by the workflow: the run fails anyway
      }
      return "done";
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    const error = await run.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnawaitedCallError);
    expect((error as Error).message).toContain('ctx.sleep("nap") was not awaited');
  });

  it("that fails is reported as un-awaited, not as an unhandled rejection", async () => {
    const wf = defineWorkflow({ name: "forgot-await-failing" }, async (ctx) => {
      void ctx.step("boom", () => {
        throw new NonRetryableError("nobody listens");
      });
      await ctx.step("b", () => 1);
      await ctx.step("c", () => 2);
      return "done";
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    const error = await run.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnawaitedCallError);
    expect((error as Error).message).toContain('ctx.step("boom")');
  });

  it("is not flagged for calls started together and awaited together", async () => {
    const wf = defineWorkflow({ name: "together" }, async (ctx) => {
      const all = await Promise.all([ctx.step("a", () => 1), ctx.step("b", () => 2)]);
      // Started in one turn, awaited one after the other.
      const c = ctx.step("c", () => 3);
      const d = ctx.step("d", () => 4);
      const sequential = [await c, await d];
      // A race: the loser is observed, and left behind when the function returns.
      const raced = await Promise.race([ctx.step("e", () => 5), ctx.sleep("timeout", "1h")]);
      const settled = await Promise.allSettled([ctx.step("f", () => 6)]);
      const chained = await ctx.step("g", () => 7).then((n) => n * 10);
      const many = await Promise.all(
        Array.from({ length: 50 }, (_, i) => ctx.step(`many-${i}`, () => i)),
      );
      return { all, sequential, raced, settled: settled.length, chained, many: many.length };
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    expect(await run.result()).toEqual({
      all: [1, 2],
      sequential: [3, 4],
      raced: 5,
      settled: 1,
      chained: 70,
      many: 50,
    });
  });

  it("is not flagged for branches that each await their own calls, across a suspension", async () => {
    const wf = defineWorkflow({ name: "branches" }, async (ctx) => {
      const branch = async (name: string) => {
        const first = await ctx.step(`${name}-1`, () => name);
        await ctx.sleep(`${name}-nap`, "1m");
        return `${first}:${await ctx.step(`${name}-2`, () => ctx.runId.length > 0)}`;
      };
      return Promise.all(["x", "y", "z"].map(branch));
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    t.clock.advance("1m");
    expect(await run.result()).toEqual(["x:true", "y:true", "z:true"]);
  });
});

describe("a ctx call inside a step body", () => {
  it("fails the run at once with ContextInStepError naming the call and the step", async () => {
    const wf = defineWorkflow({ name: "now-in-step" }, async (ctx) => {
      return ctx.step("stamp", () => ctx.now().toISOString());
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    const error = await run.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContextInStepError);
    expect(error).toMatchObject({ code: "CONTEXT_IN_STEP" });
    expect((error as Error).message).toContain(
      'ctx.now() was called inside the body of step "stamp"',
    );
    expect((error as Error).message).toContain("Fix:");
    const info = await t.cairn.getRun(run.id);
    expect(info.status).toBe("failed");
    // The call took no journal position.
    expect(info.steps.map((s) => s.key)).not.toContain("now");
  });

  it("fails the run even when the body catches the error, after an await, for every call", async () => {
    const calls = {
      step: (ctx: Ctx) => ctx.step("inner", () => 1),
      uuid: (ctx: Ctx) => ctx.uuid(),
      random: (ctx: Ctx) => ctx.random(),
      sleep: (ctx: Ctx) => ctx.sleep("nap", "1s"),
      waitForSignal: (ctx: Ctx) => ctx.waitForSignal("go"),
    };
    const wf = defineWorkflow({ name: "ctx-in-step" }, async (ctx, call: keyof typeof calls) => {
      await ctx.step("outer", async () => {
        await Promise.resolve();
        try {
          await calls[call](ctx);
        } catch {
          // swallowed by the body: the run fails anyway
        }
        return "ok";
      });
      return "done";
    });
    t = await testCairn({ workflows: [wf] });
    for (const call of Object.keys(calls) as (keyof typeof calls)[]) {
      const run = await t.cairn.start(wf, call);
      const error = await run.result().catch((e: unknown) => e);
      expect(error, call).toBeInstanceOf(ContextInStepError);
      expect((error as Error).message).toMatch(
        new RegExp(`^ctx\\.${call}\\(.*\\) was called inside the body of step "outer"`),
      );
    }
  });

  it("is not flagged for a run started from a step body", async () => {
    const child = defineWorkflow({ name: "started-from-step" }, async (ctx) => {
      const at = ctx.now();
      return ctx.step("work", () => at.getTime() > 0);
    });
    let childId = "";
    const parent = defineWorkflow({ name: "starter" }, async (ctx) => {
      childId = await ctx.step("start-child", async () => {
        const handle = await t?.cairn.start(child, undefined, { id: "child-of-step" });
        return handle?.id ?? "";
      });
      return childId;
    });
    t = await testCairn({ workflows: [parent, child] });
    const run = await t.cairn.start(parent, undefined);
    expect(await run.result()).toBe("child-of-step");
    const handle = t.cairn.handle("child-of-step");
    expect(await handle.result()).toBe(true);
  });
});

describe("the errors", () => {
  it("are Cairn's, exported, and the non-determinism hint names Math.random() and Date.now()", () => {
    const unawaited = new UnawaitedCallError('ctx.step("a")', "when the workflow returned");
    const inStep = new ContextInStepError("ctx.uuid()", "charge");
    expect(CairnError.is(unawaited) && CairnError.is(inStep)).toBe(true);
    expect([unawaited.code, inStep.code]).toEqual(["UNAWAITED_CALL", "CONTEXT_IN_STEP"]);
    expect([unawaited.call, inStep.call, inStep.step]).toEqual([
      'ctx.step("a")',
      "ctx.uuid()",
      "charge",
    ]);
    const divergence = new NonDeterminismError(3, 'step "a"', 'step "b"');
    expect(divergence.message).toContain("Math.random()");
    expect(divergence.message).toContain("Date.now()");
    expect(divergence.message).toContain("ctx.now()");
  });
});

type Ctx = Parameters<Parameters<typeof defineWorkflow>[1]>[0];
