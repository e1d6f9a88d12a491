import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { expenseApproval } from "../examples/approval.ts";
import { inventoryReport, publishReport, sampleSkus } from "../examples/fan-out.ts";
import { processOrder, serviceLog } from "../examples/process-order.ts";
import type { RunInfo } from "../src/index.ts";
import { createTestCairn, type TestCairn, waitForStatus } from "../src/testing/index.ts";
import { claimPass, probeWorkflow } from "./support/claim-pass.ts";

serviceLog.write = () => {}; // the fake services' narration is for `npm start`, not tests

const workflows = [processOrder, expenseApproval, inventoryReport, publishReport, probeWorkflow];
let t: TestCairn | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function open(): Promise<TestCairn> {
  t = await createTestCairn({ workflows });
  return t;
}

/**
 * Waits for the run to end. Retry backoff runs on the TestClock, so whenever a step waits
 * for its next attempt the clock moves 1s, once per attempt (moving it more could fire the
 * step's 30s timeout while the next attempt is in flight). The retry time is fixed before
 * the step's `retrying` event, so an advance after it is never too early.
 */
async function finish({ cairn, clock }: TestCairn, runId: string): Promise<RunInfo> {
  const advance = () => queueMicrotask(() => clock.advance("1s"));
  const stop = cairn.subscribe((e) => {
    if (e.type === "step" && e.runId === runId && e.status === "retrying") advance();
  });
  try {
    // A retry that began before the subscription shows in the store instead.
    if ((await cairn.getRun(runId)).steps.some((s) => s.status === "retrying")) advance();
    await cairn
      .handle(runId)
      .result()
      .catch(() => {});
  } finally {
    stop();
  }
  return cairn.getRun(runId);
}

const order = {
  id: "1001",
  total: 129.9,
  email: "ada@example.com",
  items: [{ sku: "SKU-001", qty: 2 }],
};

describe("process-order", () => {
  it("charges, ships after one retry, emails", async () => {
    const { cairn } = await open();
    const run = await cairn.start(processOrder, order, { id: "order-ok" });
    const info = await finish(t as TestCairn, run.id);
    expect(info.status).toBe("completed");
    expect(info.output).toEqual({
      orderId: "1001",
      chargeId: expect.stringMatching(/^ch_\d+$/),
      trackingNumber: expect.stringMatching(/^TRK\d+$/),
      receiptId: expect.stringMatching(/^msg_\d+$/),
    });
    expect(info.steps.map((s) => [s.key, s.status, s.attempt])).toEqual([
      ["charge", "completed", 1],
      ["ship", "completed", 2],
      ["email", "completed", 1],
    ]);
    expect(await run.result()).toEqual(info.output);
  });

  it("fails at once on a declined card: NonRetryableError is not retried", async () => {
    const { cairn } = await open();
    const run = await cairn.start(processOrder, { ...order, total: 9_999 }, { id: "order-big" });
    await expect(run.result()).rejects.toThrow(/Card declined/);
    const info = await cairn.getRun(run.id);
    expect(info.status).toBe("failed");
    expect(info.error?.name).toBe("NonRetryableError");
    expect(info.steps.map((s) => [s.key, s.status, s.attempt])).toEqual([["charge", "failed", 1]]);
  });

  it("rejects invalid input at start, creating no run", async () => {
    const { cairn } = await open();
    const bad = { ...order, email: "not-an-email" };
    await expect(cairn.start(processOrder, bad, { id: "order-bad" })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("at email"),
    });
    await expect(cairn.getRun("order-bad")).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
  });
});

describe("expense-approval", () => {
  const expense = { expenseId: "exp-1", amount: 420, submitter: "ada" };

  for (const approved of [true, false]) {
    it(`returns ${approved ? "approved" : "rejected"} when the reviewer answers`, async () => {
      const { cairn } = await open();
      const run = await cairn.start(expenseApproval, expense, { id: `expense-${approved}` });
      await waitForStatus(cairn, run.id, "waiting");
      await cairn.sendEvent("expense.approved", {
        expenseId: "exp-1",
        approved,
        reviewer: "grace",
      });
      expect(await run.result()).toEqual({
        expenseId: "exp-1",
        decision: approved ? "approved" : "rejected",
        reviewer: "grace",
      });
    });
  }

  it("times out after a day, ignoring other expenses' events", async () => {
    const { cairn, clock } = await open();
    const run = await cairn.start(expenseApproval, expense, { id: "expense-late" });
    await waitForStatus(cairn, run.id, "waiting");
    await cairn.sendEvent("expense.approved", {
      expenseId: "exp-2",
      approved: true,
      reviewer: "x",
    });
    clock.advance("23h");
    await claimPass(cairn); // a claim pass after the advance leaves the run waiting
    expect((await cairn.getRun(run.id)).status).toBe("waiting");
    clock.advance("1h");
    expect(await run.result()).toEqual({
      expenseId: "exp-1",
      decision: "timed-out",
      reviewer: null,
    });
  });
});

describe("inventory-report", () => {
  it("counts 40 SKUs in parallel steps, aggregates, publishes via a child run", async () => {
    const { cairn } = await open();
    const run = await cairn.start(
      inventoryReport,
      { warehouse: "lyon-2", skus: sampleSkus },
      { id: "inventory" },
    );
    const output = await run.result();
    const info = await cairn.getRun(run.id);
    const counts = info.steps.filter((s) => s.key.startsWith("count:"));
    expect(counts).toHaveLength(40);
    const units = counts.reduce((sum, s) => sum + (s.output as { units: number }).units, 0);
    expect(output).toMatchObject({
      warehouse: "lyon-2",
      skus: 40,
      units,
      url: "https://reports.example.com/lyon-2.txt",
    });
    expect(output.lowStock.every((sku) => sampleSkus.includes(sku))).toBe(true);
    expect(info.steps.slice(-2).map((s) => [s.key, s.kind, s.status])).toEqual([
      ["aggregate", "step", "completed"],
      ["publish", "invoke", "completed"],
    ]);
    const [child] = await cairn.listRuns({ parentId: run.id });
    expect(child).toMatchObject({ workflow: "publish-report", status: "completed" });
  });
});

describe("npm start (examples/main.ts)", () => {
  it("runs every example and exits by itself", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-examples-"));
    try {
      const { code, stdout, stderr } = await new Promise<{
        code: number | null;
        stdout: string;
        stderr: string;
      }>((resolve) => {
        const child = execFile(
          "npx",
          ["tsx", "examples/main.ts"],
          {
            cwd: join(import.meta.dirname, ".."),
            env: { ...process.env, CAIRN_DB: `sqlite:${join(dir, "examples.db")}` },
            timeout: 25_000,
          },
          (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
        );
      });
      expect({ code, stderr: code === 0 ? "" : stderr }).toEqual({ code: 0, stderr: "" });
      expect(stdout).toMatch(/order-1001-\S+\s+process-order\s+completed/);
      expect(stdout).toMatch(/order-1002-\S+\s+process-order\s+failed/);
      expect(stdout).toMatch(/expense-\S+\s+expense-approval\s+completed/);
      expect(stdout).toMatch(/inventory-\S+\s+inventory-report\s+completed/);
      expect(stdout).toMatch(/inventory-\S+\/publish\s+publish-report\s+completed/);
      expect(stdout).toContain("created: false, same output: true");
      expect(stdout).toContain("duplicate: true");
      expect(stdout).toMatch(/etl-\S+\s+etl\s+completed/);
      expect(stdout).toContain("All examples done.");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
