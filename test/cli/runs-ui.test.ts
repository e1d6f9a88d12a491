import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { RunId } from "../../src/core/types.ts";
import { Cairn, defineWorkflow } from "../../src/index.ts";
import { waitForStatus } from "../../src/testing/index.ts";
import { cli, tempDir } from "./cli.ts";
import { approve } from "./fixtures/workflows/greet.ts";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

/** Logs from the workflow and from a step, printed and structured. */
const chatty = defineWorkflow({ name: "chatty" }, async (ctx) => {
  ctx.log.info("begin", { k: 1 });
  await ctx.step("talk", (s) => {
    s.log.warn("careful");
    console.log("printed");
  });
  return "ok";
});

const dir = tempDir();
const db = ["--db", dir.db];

beforeAll(async () => {
  const cairn = await Cairn.open({ db: dir.db, workflows: [chatty, approve] });
  await cairn.worker();
  await (await cairn.start(chatty, undefined, { id: "c1" })).result();
  for (const id of ["a1", "a2"]) {
    await cairn.start(approve, { id }, { id });
    await waitForStatus(cairn, id, "waiting");
  }
  await cairn.close();
});
afterAll(() => dir.remove());

describe("cairn runs logs | rerun | cancel --filter", () => {
  it("prints a run's log lines, as text and as JSON lines", async () => {
    const [text, lines, step] = await Promise.all([
      cli(["runs", "logs", "c1", ...db]),
      cli(["runs", "logs", "c1", "--json", ...db]),
      cli(["runs", "logs", "c1", "--step", "talk", "--json", ...db]),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/INFO {2}\[workflow\] begin \{"k":1\}/);
    expect(text.stdout).toMatch(/WARN {2}\[talk#1\] careful/);
    const parsed = lines.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { message: string });
    expect(parsed.map((l) => l.message)).toEqual(["begin", "careful", "printed"]);
    expect(step.stdout.trim().split("\n")).toHaveLength(2);
    const missing = await cli(["runs", "logs", "nope", ...db]);
    expect(missing.code).toBe(2);
  });

  it("cancels by filter only with --yes when there is no terminal, after counting", async () => {
    const asked = await cli(["runs", "cancel", "--filter", "workflow=approve", ...db]);
    expect(asked.code).toBe(2);
    expect(asked.stderr).toContain("2 runs match, 2 to cancel. Nothing done: add --yes");
    const bad = await cli(["runs", "cancel", "--filter", "colour=red", ...db]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--filter "colour=red" must be key=value');
    const done = await cli([
      "runs",
      "cancel",
      "--filter",
      "workflow=approve",
      "--filter",
      "idPrefix=a",
      "--yes",
      "--json",
      ...db,
    ]);
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ matched: 2, affected: 2 });
    const retried = await cli(["runs", "retry", "--filter", "status=cancelled", "--yes", ...db]);
    expect(retried.stdout).toContain("Retried 2 of 2 matching runs.");
  });

  it("reruns a run from a step", async () => {
    const res = await cli(["runs", "rerun", "c1", "--from-step", "talk", "--json", ...db]);
    expect(res.code).toBe(0);
    const { id } = JSON.parse(res.stdout) as { id: string };
    const cairn = await Cairn.open({ db: dir.db });
    try {
      expect((await cairn.store.tags.get([id as RunId])).get(id as RunId)).toEqual({
        rerunOf: "c1",
        rerunFromStep: "talk",
      });
      expect((await cairn.store.getJournal(id as RunId)).map((e) => e.key)).toEqual([]);
    } finally {
      await cairn.close();
    }
    const bad = await cli(["runs", "rerun", "c1", "--from-step", "nope", ...db]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('has no step "nope"');
  });
});
