import { afterEach, describe, expect, it } from "vitest";
import { CairnError } from "../src/core/errors.ts";
import { checkName, InvalidNameError } from "../src/core/names.ts";
import { type AnyWorkflow, defineWorkflow, type WorkflowContext } from "../src/index.ts";
import { type TestCairn, waitForRun, waitForStatus } from "../src/testing/index.ts";
import { testCairn } from "./support/engine.ts";

/**
 * The differential test of names and payloads: this file runs once per store (it is in
 * vitest.config.ts's engineTests) and compares every outcome with ONE expected table, so a
 * pass on both projects means SQLite and PostgreSQL answered the same.
 */

let t: TestCairn | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Names no store may receive: the name, how a refusal shows it, the problem it names. */
const badNames: Record<string, [string, string, string]> = {
  nul: ["a\u0000b", '"a\\u0000b"', "contains a control character (U+0000) at index 1"],
  "only nul": ["\u0000", '"\\u0000"', "contains a control character (U+0000) at index 0"],
  tab: ["tab\there", '"tab\\there"', "contains a control character (U+0009) at index 3"],
  "unit separator": ["x\u001f", '"x\\u001f"', "contains a control character (U+001F) at index 1"],
  del: ["del\u007f", '"del\\u007f"', "contains a control character (U+007F) at index 3"],
  "lone high surrogate": [
    "\ud800",
    '"\\ud800"',
    "contains an unpaired surrogate (U+D800) at index 0",
  ],
  "lone low surrogate": [
    "x\udc00y",
    '"x\\udc00y"',
    "contains an unpaired surrogate (U+DC00) at index 1",
  ],
  "reversed pair": [
    "\ude80\ud83d",
    '"\\ude80\\ud83d"',
    "contains an unpaired surrogate (U+DE80) at index 0",
  ],
  "too long": [
    "n".repeat(257),
    `"${"n".repeat(64)}…"`,
    "is 257 characters long, over the limit of 256",
  ],
  empty: ["", '""', "must not be empty"],
};

/** Names both stores must keep exactly as given. */
const edgeNames: Record<string, string> = {
  emoji: "rocket \ud83d\ude80 launch",
  accents: "ünïcødé-ñame",
  cjk: "注文の確認",
  "no-break space": "a\u00a0b",
  "line separator": "a\u2028b",
  punctuation: "a b/c:d#e?f&g%00",
  "256 characters": "m".repeat(256),
};

/** Each ctx call that takes a name, calling it with `name` where the name goes. */
const child = defineWorkflow({ name: "names-child" }, async () => "child");
const ctxCalls: Record<string, [string, (ctx: WorkflowContext, name: string) => Promise<unknown>]> =
  {
    step: ["step name", (ctx, name) => ctx.step(name, () => 1)],
    transaction: ["transaction name", (ctx, name) => ctx.transaction(name, () => 1)],
    sleep: ["sleep name", (ctx, name) => ctx.sleep(name, "1ms")],
    sleepUntil: ["sleep name", (ctx, name) => ctx.sleepUntil(name, 0)],
    waitForSignal: ["signal name", (ctx, name) => ctx.waitForSignal(name, { timeout: "1ms" })],
    "waitForEvent name": [
      "waitForEvent name",
      (ctx, name) => ctx.waitForEvent(name, { event: "e", timeout: "1ms" }),
    ],
    "waitForEvent event": [
      'event name (of waitForEvent "w")',
      (ctx, name) => ctx.waitForEvent("w", { event: name, timeout: "1ms" }),
    ],
    invoke: ["invoke name", (ctx, name) => ctx.invoke(name, child, null)],
    "invoke id": ["child run id", (ctx, name) => ctx.invoke("c", child, null, { id: name })],
  };

/**
 * Lets a run's waits time out one after another (each 1 ms on the test clock) until it ends:
 * the clock moves once the run waits at a new position, never on a fixed delay.
 */
async function driveToEnd(t: TestCairn, runId: string) {
  let recorded = -1;
  for (;;) {
    let info = await t.cairn.getRun(runId);
    await waitForRun(
      t.cairn,
      runId,
      async () => {
        info = await t.cairn.getRun(runId);
        return isFinal(info.status) || (info.status === "waiting" && info.steps.length > recorded);
      },
      "the run waiting at a new position or ending",
    );
    if (isFinal(info.status)) return info;
    recorded = info.steps.length;
    t.clock.advance("1s");
  }
}

function isFinal(status: string): boolean {
  return status === "completed" || status === "failed" || status === "cancelled";
}

/** How a call ended, as one comparable line. */
async function outcome(call: () => unknown): Promise<string> {
  try {
    await call();
    return "ok";
  } catch (error) {
    const code = CairnError.is(error) ? error.code : "-";
    return `${(error as Error).name} ${code}: ${(error as Error).message}`;
  }
}

describe("checkName", () => {
  it("names what is wrong and where", () => {
    expect(() => checkName("step name", "a\u0000b")).toThrow(
      'step name "a\\u0000b" contains a control character (U+0000) at index 1.',
    );
    expect(() => checkName("step name", 42)).toThrow("step name must be a string, got number.");
    const error = (() => {
      try {
        checkName("event name", "\ud800");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidNameError);
    expect(CairnError.is(error) && error.code).toBe("INVALID_ARGUMENT");
    for (const name of Object.values(edgeNames)) expect(checkName("name", name)).toBe(name);
  });
});

describe("names inside a running workflow", () => {
  it("fails the run at once with the refusal, for every ctx call and bad name", async () => {
    const cases: { label: string; workflow: AnyWorkflow; expected: string }[] = [];
    for (const [callName, [what, call]] of Object.entries(ctxCalls)) {
      for (const [badName, [name, shown, problem]] of Object.entries(badNames)) {
        const label = `${callName} / ${badName}`;
        const workflow = defineWorkflow({ name: `bad-${cases.length}` }, async (ctx) => {
          await ctx.step("before", () => "ok");
          // Catching the refusal changes nothing: the run fails anyway.
          try {
            await call(ctx, name);
          } catch {
            return "caught";
          }
          return "done";
        });
        cases.push({
          label,
          workflow,
          expected: `failed InvalidNameError: ${what} ${shown} ${problem}.`,
        });
      }
    }
    t = await testCairn({ workflows: [child, ...cases.map((c) => c.workflow)] });
    const cairn = t.cairn;
    const runs = await Promise.all(cases.map((c) => cairn.start(c.workflow, null)));
    const actual: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const [i, c] of cases.entries()) {
      const id = runs[i]?.id ?? "";
      await waitForStatus(cairn, id, ["completed", "failed", "cancelled"], 20_000);
      const run = await cairn.getRun(id);
      actual[c.label] = `${run.status} ${run.error?.name}: ${run.error?.message}`;
      expected[c.label] = c.expected;
    }
    expect(actual).toEqual(expected);
  });

  it("keeps edge names exactly, for every ctx call", async () => {
    const workflow = defineWorkflow({ name: "edge-names" }, async (ctx) => {
      for (const [, [, call]] of Object.entries(ctxCalls)) {
        for (const name of Object.values(edgeNames)) await call(ctx, name);
      }
      return "done";
    });
    t = await testCairn({ workflows: [child, workflow] });
    const run = await t.cairn.start(workflow, null);
    const info = await driveToEnd(t, run.id);
    expect(info.error).toBeNull();
    expect(info.status).toBe("completed");
    // The keys the journal must hold: repeats of a name get `#2`, `#3`…; a sleepUntil of a
    // past time claims its key but records nothing.
    const counts = new Map<string, number>();
    const expectedKeys: string[] = [];
    for (const callName of Object.keys(ctxCalls)) {
      for (const name of Object.values(edgeNames)) {
        const claimed =
          callName === "waitForEvent event" ? "w" : callName === "invoke id" ? "c" : name;
        const count = (counts.get(claimed) ?? 0) + 1;
        counts.set(claimed, count);
        if (callName !== "sleepUntil")
          expectedKeys.push(count === 1 ? claimed : `${claimed}#${count}`);
      }
    }
    expect(info.steps.map((s) => s.key)).toEqual(expectedKeys);
  });
});
