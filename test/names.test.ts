import { afterEach, describe, expect, it } from "vitest";
import { CairnError } from "../src/core/errors.ts";
import { checkName, InvalidNameError, nameProblem } from "../src/core/names.ts";
import {
  type AnyWorkflow,
  defineWorkflow,
  type Workflow,
  type WorkflowContext,
} from "../src/index.ts";
import { createToken } from "../src/server/index.ts";
import { type TestCairn, waitForRun, waitForStatus } from "../src/testing/index.ts";
import { testCairn } from "./support/engine.ts";
import { tokensOf } from "./support/tokens-of.ts";

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
    // The recorded error comes back as an InvalidNameError with its code.
    const error = await runs[0]?.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidNameError);
    expect(CairnError.is(error) && error.code).toBe("INVALID_ARGUMENT");
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

describe("names given to the engine's API", () => {
  it("refuses bad names and ids where the call is made, and creates nothing", async () => {
    const wf = defineWorkflow({ name: "plain" }, async (ctx) => ctx.waitForSignal("go"));
    t = await testCairn({ workflows: [wf] });
    const cairn = t.cairn;
    await cairn.start(wf, null, { id: "r" });
    await waitForStatus(cairn, "r", "waiting");
    const calls: Record<string, [string, (name: string) => unknown]> = {
      "start id": ["run id", (name) => cairn.start(wf, null, { id: name })],
      "start workflow": ["workflow name", (name) => cairn.start(name, null)],
      "start tag key": ["tag key", (name) => cairn.start(wf, null, { tags: { [name]: "v" } })],
      "sendEvent name": ["event name", (name) => cairn.sendEvent(name, 1)],
      "sendEvent id": ["event id", (name) => cairn.sendEvent("e", 1, { id: name })],
      "signal name": ["signal name", (name) => cairn.signal("r", name, 1)],
      "signal run": ["run id", (name) => cairn.signal(name, "go", 1)],
      getRun: ["run id", (name) => cairn.getRun(name)],
      cancel: ["run id", (name) => cairn.cancel(name)],
      retry: ["run id", (name) => cairn.retry(name)],
      "schedule id": [
        "schedule id",
        (name) => cairn.schedules.create({ id: name, workflow: "plain", cron: "* * * * *" }),
      ],
      "schedule workflow": [
        "workflow name",
        (name) => cairn.schedules.create({ workflow: name, cron: "* * * * *" }),
      ],
      "schedule get": ["schedule id", (name) => cairn.schedules.get(name)],
      defineWorkflow: ["workflow name", (name) => defineWorkflow({ name }, async () => 1)],
      trigger: [
        'defineWorkflow("t"): triggers[0].event',
        (name) => defineWorkflow({ name: "t", triggers: [{ event: name }] }, async () => 1),
      ],
      queue: [
        'defineWorkflow("t"): queue',
        (name) => defineWorkflow({ name: "t", queue: name }, async () => 1),
      ],
      token: [
        "token name",
        (name) => createToken(tokensOf(cairn), cairn.clock, { name, role: "viewer" }),
      ],
      "listRuns workflow": ["workflow name", (name) => cairn.listRuns({ workflow: name })],
      "listRuns tag": ["tag key", (name) => cairn.listRuns({ tags: [{ key: name, value: "v" }] })],
      "listRuns idPrefix": ["idPrefix", (name) => cairn.listRuns({ idPrefix: name })],
    };
    // Some are refused by older checks first, in their own words.
    const tokenLength = "CairnError INVALID_ARGUMENT: A token needs a name of 1 to 200 characters.";
    const olderRefusals: Record<string, Record<string, string>> = {
      defineWorkflow: { empty: "TypeError -: defineWorkflow needs a non-empty `name`." },
      trigger: {
        empty:
          'TypeError -: defineWorkflow("t"): triggers[0].event must be a non-empty event name.',
      },
      queue: { empty: 'TypeError -: defineWorkflow("t"): queue must be a non-empty string.' },
      token: { empty: tokenLength, "too long": tokenLength },
    };
    // A run id looked up may be longer than 256 (a child's `parent/step` is): just not found.
    const missing = `CairnError RUN_NOT_FOUND: No run with id "${"n".repeat(257)}".`;
    for (const lookup of ["getRun", "cancel", "retry", "signal run"]) {
      olderRefusals[lookup] = { "too long": missing };
    }
    const actual: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const [callName, [what, call]] of Object.entries(calls)) {
      for (const [badName, [name, shown, problem]] of Object.entries(badNames)) {
        const label = `${callName} / ${badName}`;
        actual[label] = await outcome(() => call(name));
        expected[label] =
          olderRefusals[callName]?.[badName] ??
          `InvalidNameError INVALID_ARGUMENT: ${what} ${shown} ${problem}.`;
      }
    }
    const tagValues: Record<string, [string, string]> = {
      nul: [
        "a\u0000b",
        'tag value "a\\u0000b" of "k" contains a control character (U+0000) at index 1.',
      ],
      "lone surrogate": [
        "\ud800",
        'tag value "\\ud800" of "k" contains an unpaired surrogate (U+D800) at index 0.',
      ],
      "too long": [
        "v".repeat(257),
        'tag value of "k" is 257 characters long, over the limit of 256.',
      ],
    };
    for (const [label, [value, message]] of Object.entries(tagValues)) {
      actual[`tag value / ${label}`] = await outcome(() =>
        cairn.start(wf, null, { tags: { k: value } }),
      );
      expected[`tag value / ${label}`] = `InvalidNameError INVALID_ARGUMENT: ${message}`;
    }
    expect(actual).toEqual(expected);
    expect((await cairn.listRuns()).map((r) => r.id)).toEqual(["r"]);
    expect(await cairn.schedules.list()).toEqual([]);
    expect(await tokensOf(cairn).list()).toEqual([]);
    // Edge names pass the same calls; the run still waits for its own signal.
    const edge = "rocket \ud83d\ude80 launch";
    await cairn.signal("r", edge, 1);
    await cairn.sendEvent(edge, 1, { id: edge });
    const tagged = await cairn.start(wf, null, { id: edge, tags: { [edge]: edge, empty: "" } });
    expect((await cairn.getRun(tagged.id)).id).toBe(edge);
    await cairn.signal("r", "go", "went");
    expect(await cairn.handle("r").result()).toBe("went");
  });
});

/** Strings PostgreSQL text and UTF-8 cannot hold as they are, in every place a payload has one. */
const awkward = ["a\u0000b", "\u0000", "\ud800", "x\udc00y", "\ude80\ud83d", "\u007f\u001f", "🚀"];
const payload = () => ({
  tag: "a\u0000b\ud800",
  strings: awkward,
  keyed: { "k\u0000ey": "v", "\ud800": "lone key" },
  nested: [{ deep: "a\u0000b" }],
  map: new Map([["a\u0000b", "\ud800"]]),
  at: new Date(0),
});

describe("payloads", () => {
  it("keeps NUL and lone surrogates in inputs, outputs, event data and signals", async () => {
    const wf = defineWorkflow({ name: "payloads" }, async (ctx, input: unknown) => {
      const step = await ctx.step("echo", () => input);
      const event = await ctx.waitForEvent("e", {
        event: "payload.event",
        match: { tag: "a\u0000b\ud800" },
      });
      const signal = await ctx.waitForSignal("s");
      const thrown = await ctx
        .step("throws", { retry: { maxAttempts: 1 } }, () => {
          throw new Error("bad\u0000message\ud800");
        })
        .catch((error: Error) => error.message);
      return { input, step, event: event?.data, signal, thrown };
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, payload());
    await waitForStatus(t.cairn, run.id, "waiting");
    // An event differing only after the NUL, or in the surrogate, must not match.
    await t.cairn.sendEvent("payload.event", { ...payload(), tag: "a\u0000c\ud800" });
    await t.cairn.sendEvent("payload.event", { ...payload(), tag: "a\u0000b\ud801" });
    await t.cairn.sendEvent("payload.event", payload());
    await waitForRun(
      t.cairn,
      run.id,
      async () => (await t?.cairn.getRun(run.id))?.steps.some((s) => s.key === "s") ?? false,
      "the run waiting for its signal",
    );
    await t.cairn.signal(run.id, "s", payload());
    expect(await run.result()).toEqual({
      input: payload(),
      step: payload(),
      event: payload(),
      signal: payload(),
      thrown: "bad\u0000message\ud800",
    });
    // How: superjson text, whose JSON escapes NUL and lone surrogates (`\u0000`, `\ud800`),
    // in a TEXT column on both stores; the stored text itself holds neither.
    const stored = await t.cairn.store.getRun(run.id as never);
    const text = stored?.input ?? "";
    expect(text).toContain('"a\\u0000b"');
    expect(text).toContain('"\\ud800"');
    expect(text.includes("\u0000")).toBe(false);
    expect(textHasLoneSurrogate(text)).toBe(false);
    expect((JSON.parse(text) as { json: { strings: string[] } }).json.strings).toEqual(awkward);
  });
});

function textHasLoneSurrogate(text: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}

describe("text that is not a payload", () => {
  it("logs NUL as `\\u0000` and a lone surrogate as U+FFFD, and loses no line", async () => {
    const wf = defineWorkflow({ name: "logs" }, async (ctx) => {
      ctx.log.info("run a\u0000b", { k: "a\u0000b\ud800" });
      await ctx.step("s", (info) => {
        info.log.warn("step \ud800 x\udc00 \ud83d\ude80");
        console.log("console a\u0000b\nsecond line");
      });
      ctx.log.info("after");
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, null);
    await run.result();
    await t.cairn.logWriter.idle();
    const lines = await t.cairn.store.logs.list(run.id as never);
    expect(lines.map((l) => [l.message, l.fields === null ? null : JSON.parse(l.fields)])).toEqual([
      ["run a\\u0000b", { k: "a\u0000b\ud800" }],
      ["step \ufffd x\ufffd \ud83d\ude80", null],
      ["console a\\u0000b\nsecond line", null],
      ["after", null],
    ]);
  });

  it("refuses a flow-control key no store can index, before anything is created", async () => {
    const wf = defineWorkflow(
      { name: "keyed", concurrency: { limit: 1, key: (input: string) => input } },
      async () => "ok",
    );
    t = await testCairn({ workflows: [wf] });
    const cairn = t.cairn;
    const results = {
      nul: await outcome(() => cairn.start(wf, "a\u0000b")),
      long: await outcome(() => cairn.start(wf, "k".repeat(300))),
    };
    expect(results).toEqual({
      nul: 'CairnError INVALID_INPUT: The concurrency.key function returned "a\\u0000b", which contains a control character (U+0000) at index 1.',
      long: `CairnError INVALID_INPUT: The concurrency.key function returned "${"k".repeat(64)}…", which is 300 characters long, over the limit of 256.`,
    });
    expect(await cairn.listRuns()).toEqual([]);
    expect(await (await cairn.start(wf, "customer \ud83d\ude80")).result()).toBe("ok");
  });

  it("gives nested children ids both stores can index, however long the names", async () => {
    // Each level's step name is 254 scattered CJK characters (762 bytes of UTF-8) and an
    // emoji, different at each level so nothing compresses: `parent/step` ids would pass
    // PostgreSQL's index limit (about 2.7 kB) by the fourth level.
    const stepAt = (depth: number) =>
      `${Array.from({ length: 254 }, (_, i) =>
        String.fromCodePoint(0x4e00 + ((i * 7919 + depth * 104_729) % 20_000)),
      ).join("")}\ud83d\ude80`;
    const nest: Workflow<number, number> = defineWorkflow(
      { name: "nest" },
      async (ctx, depth: number): Promise<number> =>
        depth === 0 ? 0 : 1 + (await ctx.invoke(stepAt(depth), nest, depth - 1)),
    );
    t = await testCairn({ workflows: [nest] });
    const top = await t.cairn.start(nest, 8, { id: "p".repeat(256) });
    expect(await top.result()).toBe(8);
    const runs = await t.cairn.listRuns({ workflow: "nest" });
    expect(runs).toHaveLength(9);
    expect(runs.map((r) => nameProblem(r.id))).toEqual(runs.map(() => undefined));
    // Each level is the child of the one above, reachable by the id its parent recorded.
    let id: string = top.id;
    for (let level = 0; level < 8; level++) {
      const info = await t.cairn.getRun(id);
      const childId = info.steps[0]?.childRunId ?? "";
      expect((await t.cairn.getRun(childId)).parentId).toBe(id);
      id = childId;
    }
  });
});
