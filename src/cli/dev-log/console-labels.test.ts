import { afterEach, describe, expect, it } from "vitest";
import { defineWorkflow } from "../../sdk/define-workflow.ts";
import { createTestCairn, type TestCairn } from "../../testing/index.ts";
import { type ConsoleMethod, type ConsoleScope, labelConsole } from "./console-labels.ts";

interface Line {
  method: ConsoleMethod;
  scope: ConsoleScope;
  text: string;
}

const greeter = defineWorkflow({ name: "greeter" }, async (ctx, input: { who: string }) => {
  console.log("starting for", input.who);
  const text = await ctx.step("greet", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    console.warn("greeting %s", input.who); // after a timer: the step's context follows it
    return `hello ${input.who}`;
  });
  await ctx.transaction("note", () => console.info("in the transaction")); // sync, for SQLite
  console.error("done:", text);
  return text;
});

describe("labelConsole", () => {
  let t: TestCairn | undefined;
  let restore: (() => void) | undefined;
  afterEach(async () => {
    restore?.();
    await t?.close();
  });

  it("labels what a workflow and its steps print with their run and step", async () => {
    const lines: Line[] = [];
    restore = labelConsole((line) => lines.push(line));
    t = await createTestCairn({ workflows: [greeter] });
    const run = await t.cairn.start(greeter, { who: "ada" });
    expect(await run.result()).toBe("hello ada");
    restore();
    restore = undefined;
    const owner = { runId: run.id, workflow: "greeter" };
    expect(lines).toEqual([
      { method: "log", scope: owner, text: "starting for ada" },
      { method: "warn", scope: { ...owner, step: "greet" }, text: "greeting ada" },
      { method: "info", scope: { ...owner, step: "note" }, text: "in the transaction" },
      { method: "error", scope: owner, text: "done: hello ada" },
    ]);
  });

  it("leaves output outside any run to the console", () => {
    const lines: Line[] = [];
    const printed: unknown[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => printed.push(args);
    try {
      restore = labelConsole((line) => lines.push(line));
      console.log("plain", 1);
      restore();
      restore = undefined;
    } finally {
      console.log = original;
    }
    expect(lines).toEqual([]);
    expect(printed).toEqual([["plain", 1]]);
  });
});
