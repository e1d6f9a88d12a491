import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { expenseApproval } from "../../examples/approval.ts";
import { inventoryReport, publishReport, sampleSkus } from "../../examples/fan-out.ts";
import type { ReplayAllReport } from "../../src/index.ts";
import { Cairn } from "../../src/index.ts";
import { waitForStatus } from "../../src/testing/index.ts";
import { cli, fixtures, root, tempDir } from "./cli.ts";

// Each test spawns CLI processes; a loaded CI machine can make them slow.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

// The deploy gate of docs/guide/evolving-workflows.md, run against the repository's own
// examples: runs are recorded in-process, then `cairn replay --all` checks new code.
const dir = tempDir();
const db = ["--db", dir.db];
const examples = join(root, "examples");
const gate = join(fixtures, "deploy-gate");

beforeAll(async () => {
  const cairn = await Cairn.open({
    db: dir.db,
    workflows: [expenseApproval, inventoryReport, publishReport],
  });
  await cairn.worker();
  const expense = { amount: 12, submitter: "ada" };
  for (const id of ["e1", "e2"]) {
    await cairn.start(expenseApproval, { ...expense, expenseId: id }, { id });
    await waitForStatus(cairn, id, "waiting");
  }
  await cairn.start(expenseApproval, { ...expense, expenseId: "e3" }, { id: "e3" });
  await waitForStatus(cairn, "e3", "waiting");
  await cairn.sendEvent("expense.approved", { expenseId: "e3", approved: true, reviewer: "bo" });
  await cairn.handle("e3").result();
  await (
    await cairn.start(
      inventoryReport,
      { warehouse: "w1", skus: sampleSkus.slice(0, 3) },
      { id: "r1" },
    )
  ).result();
  await cairn.close();
});
afterAll(() => dir.remove());

describe("cairn replay --all (the deploy gate)", () => {
  it("passes the examples' own code over their runs, finished ones (and a child) included", async () => {
    const result = await cli(["replay", "--all", examples, "--finished", "5", ...db]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(`5 runs replayed: all consistent with ${examples}.`);
  });

  it("prints one line per diverging run and exits 1 when a step is inserted", async () => {
    const result = await cli(["replay", "--all", join(gate, "inserted"), ...db]);
    expect(result.code).toBe(1);
    expect(result.stdout.split("\n").filter((l) => l.includes("diverged") === false && l)).toEqual([
      'e2 (expense-approval v1, waiting): at journal position 1 the journal recorded event "approval" but the code now calls step "remind-manager"',
      'e1 (expense-approval v1, waiting): at journal position 1 the journal recorded event "approval" but the code now calls step "remind-manager"',
    ]);
    expect(result.stdout).toContain("2 runs replayed: 2 diverged, 0 consistent.");
  });

  it("reports JSON with the first divergence of each run, still exiting 1", async () => {
    const result = await cli(["replay", "--all", join(gate, "inserted"), "--json", ...db]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as ReplayAllReport;
    expect(report).toMatchObject({ checked: 2, consistent: 0 });
    expect(report.diverged.map((d) => [d.runId, d.position, d.expected, d.found])).toEqual([
      ["e2", 1, 'event "approval"', 'step "remind-manager"'],
      ["e1", 1, 'event "approval"', 'step "remind-manager"'],
    ]);
  });

  it("passes the same insertion behind ctx.patched", async () => {
    const result = await cli(["replay", "--all", join(gate, "patched"), "--json", ...db]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ checked: 2, consistent: 2, diverged: [] });
  });

  it("flags unfinished runs of a workflow the new code no longer has", async () => {
    const only = join(root, "examples/fan-out.ts");
    const result = await cli(["replay", "--all", only, ...db]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'e2 (expense-approval v1, waiting): the code has no workflow "expense-approval": no worker would resume this run',
    );
  });

  it("refuses bad arguments with exit 2", async () => {
    const [noEntry, extra, unknown, stray] = await Promise.all([
      cli(["replay", "--all", ...db]),
      cli(["replay", "--all", "e1", examples, ...db]),
      cli(["replay", "--all", examples, "--workflow", "nope", ...db]),
      cli(["replay", "e1", examples, "--finished", "3", ...db]),
    ]);
    expect([noEntry.code, extra.code, unknown.code, stray.code]).toEqual([2, 2, 2, 2]);
    expect(noEntry.stderr).toContain("takes one argument: the entry");
    expect(unknown.stderr).toContain('Unknown workflow "nope"');
    expect(stray.stderr).toContain("--workflow and --finished go with --all");
  });
});
