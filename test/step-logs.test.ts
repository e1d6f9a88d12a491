import { afterEach, describe, expect, it } from "vitest";
import type { RunId } from "../src/core/types.ts";
import { defineWorkflow, RetryableError } from "../src/index.ts";
import { type TestCairn, waitForStatus } from "../src/testing/index.ts";
import { testCairn } from "./support/engine.ts";

let t: TestCairn | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function logsOf(cairn: TestCairn["cairn"], runId: string) {
  await cairn.logWriter.idle();
  return (await cairn.store.logs.list(runId as RunId)).map((l) => ({
    step: l.stepKey,
    attempt: l.attempt,
    level: l.level,
    message: l.message,
    ...(l.fields === null ? {} : { fields: JSON.parse(l.fields) }),
    ...(l.truncated ? { truncated: true } : {}),
  }));
}

describe("step logs", () => {
  it("records ctx.log, a step's log and its console output per step and attempt", async () => {
    const wf = defineWorkflow({ name: "logging" }, async (ctx, n: number) => {
      ctx.log.info("starting", { n });
      const value = await ctx.step("work", { retry: { maxAttempts: 2 } }, (s) => {
        s.log.debug("attempt", { attempt: s.attempt });
        console.log("printed", s.attempt);
        if (s.attempt === 1) {
          console.error("failing once");
          throw new RetryableError("flaky", { retryAfterMs: 0 });
        }
        return n * 2;
      });
      ctx.log.warn("done");
      return value;
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, 21);
    expect(await run.result()).toBe(42);
    expect(await logsOf(t.cairn, run.id)).toEqual([
      { step: null, attempt: null, level: "info", message: "starting", fields: { n: 21 } },
      { step: "work", attempt: 1, level: "debug", message: "attempt", fields: { attempt: 1 } },
      { step: "work", attempt: 1, level: "info", message: "printed 1" },
      { step: "work", attempt: 1, level: "error", message: "failing once" },
      { step: "work", attempt: 2, level: "debug", message: "attempt", fields: { attempt: 2 } },
      { step: "work", attempt: 2, level: "info", message: "printed 2" },
      { step: null, attempt: null, level: "warn", message: "done" },
    ]);
  });

  it("records a transaction body's console output under the transaction's key", async () => {
    const wf = defineWorkflow({ name: "logging-transaction" }, async (ctx) =>
      ctx.transaction("record", () => {
        console.log("inside the transaction");
        return 1;
      }),
    );
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    expect(await run.result()).toBe(1);
    expect(await logsOf(t.cairn, run.id)).toEqual([
      { step: "record", attempt: 1, level: "info", message: "inside the transaction" },
    ]);
  });

  it("does not log workflow lines again when the run replays after a wait", async () => {
    const wf = defineWorkflow({ name: "logging-wait" }, async (ctx) => {
      ctx.log.info("before the signal");
      await ctx.step("a", () => 1);
      const got = await ctx.waitForSignal<string>("go");
      ctx.log.info("after the signal", { got });
      return got;
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    await t.cairn.signal(run.id, "go", "yes");
    expect(await run.result()).toBe("yes");
    expect((await logsOf(t.cairn, run.id)).map((l) => l.message)).toEqual([
      "before the signal",
      "after the signal",
    ]);
  });

  it("keeps at most maxPerStep lines per attempt and marks the truncation", async () => {
    const wf = defineWorkflow({ name: "chatty" }, async (ctx) => {
      await ctx.step("loud", (s) => {
        for (let i = 0; i < 10; i++) s.log.info(`line ${i}`);
      });
      await ctx.step("quiet", (s) => s.log.info("one"));
    });
    t = await testCairn({ workflows: [wf], logs: { maxPerStep: 3, captureConsole: false } });
    const run = await t.cairn.start(wf, undefined);
    await run.result();
    const logs = await logsOf(t.cairn, run.id);
    expect(logs.map((l) => `${l.step}:${l.message.slice(0, 13)}`)).toEqual([
      "loud:line 0",
      "loud:line 1",
      "loud:line 2",
      "loud:Log truncated",
      "quiet:one",
    ]);
    expect(logs[3]).toMatchObject({ level: "warn", truncated: true });
  });

  it("reports each stored line as a log engine event with its seq", async () => {
    const wf = defineWorkflow({ name: "log-events" }, async (ctx) => {
      await ctx.step("s", (s) => s.log.error("boom", { code: 7 }));
    });
    t = await testCairn({ workflows: [wf] });
    const seen: { seq: number; message: string }[] = [];
    t.cairn.subscribe((e) => {
      if (e.type === "log") seen.push({ seq: e.entry.seq, message: e.entry.message });
    });
    const run = await t.cairn.start(wf, undefined);
    await run.result();
    const stored = await logsOf(t.cairn, run.id);
    expect(stored).toHaveLength(1);
    const [line] = await t.cairn.store.logs.list(run.id as RunId);
    expect(seen).toEqual([{ seq: line?.seq, message: "boom" }]);
  });

  it("rejects a bad logs option with the option's name", async () => {
    await expect(
      testCairn({ logs: { maxPerStep: 0 } }).then((x) => x.cairn.worker()),
    ).rejects.toThrow(/logs\.maxPerStep must be a positive integer/);
  });
});
