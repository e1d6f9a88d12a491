import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scoreOrders } from "../../examples/python-score.ts";
import { sendReport } from "../../examples/send-report.ts";
import { findFlowFiles } from "../../src/cli/find-flow-files.ts";
import { readFlowFile } from "../../src/cli/flow-files.ts";
import { createTestCairn, type TestCairn, waitForStatus } from "../../src/testing/index.ts";

const folder = join(import.meta.dirname, "..", "..", "examples", "flows");
let t: TestCairn;
let hook: Server;
const received: unknown[] = [];
let hookUrl = "";

beforeAll(async () => {
  hook = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      received.push(JSON.parse(body));
      res.setHeader("content-type", "application/json");
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  t = await createTestCairn({
    workflows: [sendReport, scoreOrders],
    flows: { http: { allowHosts: ["127.0.0.1"] } },
  });
  for (const file of findFlowFiles(folder)) {
    const { source, files } = readFlowFile(file);
    await t.cairn.flows.deploy(source, { baseDir: folder, files });
  }
});
afterAll(async () => {
  await t.close();
  await new Promise((r) => hook.close(r));
});

describe("examples/flows", () => {
  it("deploys every example", () => {
    expect(t.cairn.flows.names()).toEqual([
      "etl",
      "expense",
      "fan-out",
      "nightly-report",
      "score-and-report",
    ]);
    expect(readFileSync(join(folder, "etl.flow.yaml"), "utf8")).toContain("scripts/extract.py");
  });

  it("etl: Python extract, Bash transform, TypeScript load", async () => {
    const run = await t.cairn.start("etl", { day: "2026-12-01", rows: 4 });
    expect(await run.result()).toEqual({ loaded: 4, total: 75 });
  }, 30_000);

  it("fan-out: 20 squares, 5 at a time", async () => {
    expect(await (await t.cairn.start("fan-out", {})).result()).toBe(2870);
  }, 60_000);

  it("score-and-report: a flow invoking code workflows, one running Python via ctx.script", async () => {
    const run = await t.cairn.start("score-and-report", { day: "d1", totals: [10, 90, 70] });
    expect(await run.result()).toEqual({ grade: "high", mail: "report for d1: total 170" });
  }, 30_000);

  it("expense: small amounts skip the approval; large ones wait for a decision", async () => {
    const small = await t.cairn.start("expense", { id: "e0", amount: 20 });
    expect(await small.result()).toEqual({
      expense: "e0",
      outcome: "auto-approved",
      decision: null,
    });
    const large = await t.cairn.start("expense", { id: "e1", amount: 420 });
    await waitForStatus(t.cairn, large.id, "waiting");
    await t.cairn.sendEvent("expense.decided", { id: "e1", approved: true });
    expect(await large.result()).toEqual({
      expense: "e1",
      outcome: "decided",
      decision: { id: "e1", approved: true },
    });
  }, 30_000);

  it("nightly-report: the reference example end to end, approval and http call included", async () => {
    const run = await t.cairn.start("nightly-report", {
      day: "2026-12-01",
      limit: 20,
      hook: hookUrl,
    });
    // 20 TypeScript script steps (a tsx start each) run before the run can wait.
    await waitForStatus(t.cairn, run.id, "waiting", 80_000);
    await t.cairn.sendEvent("report.approved", { day: "2026-12-01" });
    await waitForStatus(t.cairn, run.id, "waiting", 30_000); // the closing sleep
    t.clock.advance("1s");
    expect(await run.result()).toEqual({
      sum: 1900,
      orders: 20,
      mail: "report for 2026-12-01: total 1900",
    });
    expect(received).toEqual([{ name: "report.sent", data: { day: "2026-12-01", sum: 1900 } }]);
  }, 150_000);
});
