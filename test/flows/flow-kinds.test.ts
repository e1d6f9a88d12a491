import { afterEach, describe, expect, it } from "vitest";
import { defineWorkflow } from "../../src/index.ts";
import { type TestCairn, waitForStatus } from "../../src/testing/index.ts";
import { testCairn } from "../support/engine.ts";

let t: TestCairn | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const nightly = `
name: nightly-report
input:
  type: object
  properties: { day: { type: string }, limit: { type: integer, default: 3 } }
  required: [day]
steps:
  - id: fetch
    script:
      lang: python
      source: |
        def main(day: str, limit: int):
            print("fetching", day)
            return {"orders": [{"id": i, "total": i * 10} for i in range(limit)]}
    with: { day: "=input.day", limit: "=input.limit" }
  - id: total
    needs: [fetch]
    script:
      lang: bash
      source: |
        echo "working on $CAIRN_ARG_COUNT orders" >&2
        echo "{\\"sum\\": $CAIRN_ARG_SUM}"
    with: { count: "=$count(steps.fetch.orders)", sum: "=$sum(steps.fetch.orders.total)" }
  - id: big
    needs: [total]
    if: "=steps.total.sum > 1000"
    approval: { event: report.approved, match: { day: "=input.day" }, timeout: 1d }
  - id: per-order
    needs: [fetch]
    forEach:
      items: "=steps.fetch.orders"
      parallelism: 2
      steps:
        - id: enrich
          script: { lang: typescript, source: "export default async ({ item }: { item: { total: number } }) => ({ ...item, vat: item.total * 0.2 })" }
          with: { item: "=item" }
  - id: notify
    needs: [big, per-order]
    workflow: send-report
    with: { day: "=input.day", total: "=steps.total.sum" }
output: "={ 'sum': steps.total.sum, 'orders': $count(steps.fetch.orders), 'vat': steps.\`per-order\`.vat, 'sent': steps.notify }"
`;

const sendReport = defineWorkflow(
  { name: "send-report" },
  async (ctx, input: { day: string; total: number }) =>
    ctx.step("send", () => `sent ${input.day}: ${input.total}`),
);

describe("flows on the engine", () => {
  it("runs the nightly report example: script, branch-free DAG, forEach, child workflow", async () => {
    t = await testCairn({ workflows: [sendReport] });
    const deployed = await t.cairn.flows.deploy(nightly);
    expect(deployed).toMatchObject({ name: "nightly-report", version: 1, created: true });
    const run = await t.cairn.start("nightly-report", { day: "2026-12-01" });
    expect(await run.result()).toEqual({
      sum: 30,
      orders: 3,
      vat: [0, 2, 4],
      sent: "sent 2026-12-01: 30",
    });
    const info = await run.info();
    const keys = info.steps.map((s) => s.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        "$flow",
        "fetch",
        "total",
        "big",
        "per-order[0].enrich",
        "per-order[2].enrich",
        "notify",
      ]),
    );
    expect(info.steps.find((s) => s.key === "big")).toMatchObject({
      status: "completed",
      output: null,
    });
  }, 60_000);

  it("rejects input that breaks the flow's JSON Schema at start, creating nothing", async () => {
    t = await testCairn({ workflows: [sendReport] });
    await t.cairn.flows.deploy(nightly);
    await expect(t.cairn.start("nightly-report", { limit: 2 })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    expect(await t.cairn.listRuns({})).toHaveLength(0);
  });

  it("runs action, branch, sleep and waitForEvent steps", async () => {
    const calls: unknown[] = [];
    t = await testCairn({
      actions: {
        double: ({ n }) => {
          calls.push(n);
          return (n as number) * 2;
        },
      },
    });
    await t.cairn.flows.deploy(`
name: mixed
steps:
  - id: a
    action: double
    with: { n: "=input.n" }
  - id: route
    needs: [a]
    branch:
      - if: "=steps.a > 10"
        steps: [{ id: big, action: double, with: { n: 1 } }]
      - else: true
        steps: [{ id: small, action: double, with: { n: 2 } }]
  - id: nap
    needs: [route]
    sleep: 1h
  - id: ev
    needs: [nap]
    waitForEvent: { event: go, match: { n: "=input.n" } }
output: "={ 'a': steps.a, 'route': steps.route, 'ev': steps.ev }"
`);
    const run = await t.cairn.start("mixed", { n: 3 });
    await waitForStatus(t.cairn, run.id, "waiting");
    t.clock.advance("1h");
    for (;;) {
      const info = await run.info();
      if (
        info.steps.some((s) => s.key === "ev" && s.status === "waiting") &&
        info.status === "waiting"
      )
        break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await t.cairn.sendEvent("go", { n: 3, ok: true });
    expect(await run.result()).toEqual({ a: 6, route: 4, ev: { n: 3, ok: true } });
    expect(calls).toEqual([3, 2]);
    const steps = (await run.info()).steps;
    expect(steps.find((s) => s.key === "big")).toMatchObject({ output: null });
  });

  it("suspends on approval and resumes on an approve signal; rejection fails the flow", async () => {
    t = await testCairn();
    await t.cairn.flows.deploy(`
name: approve-me
steps:
  - id: ok
    approval: { timeout: 1d }
  - id: after
    needs: [ok]
    action: none
    if: false
output: "=steps.ok"
`);
    const run = await t.cairn.start("approve-me", {});
    await waitForStatus(t.cairn, run.id, "waiting");
    await t.cairn.signal(run.id, "approval:ok", { approved: true, by: "ann" });
    expect(await run.result()).toEqual({ approved: true, by: "ann" });

    const rejected = await t.cairn.start("approve-me", {});
    await waitForStatus(t.cairn, rejected.id, "waiting");
    await t.cairn.signal(rejected.id, "approval:ok", { approved: false, comment: "no" });
    await expect(rejected.result()).rejects.toThrow(/rejected: no/);
  });

  it("fails a script step with the tail of stderr, retried per policy, then runs onFailure", async () => {
    const pages: unknown[] = [];
    const page = defineWorkflow({ name: "page" }, async (ctx, input: unknown) => {
      await ctx.step("page", () => pages.push(input));
    });
    t = await testCairn({ workflows: [page] });
    await t.cairn.flows.deploy(`
name: broken
steps:
  - id: boom
    retry: { maxAttempts: 2, initialInterval: 1 }
    script:
      lang: python
      source: |
        def main():
            raise ValueError("the disk is on fire")
onFailure: { workflow: page, with: { error: "=error.message" } }
`);
    const run = await t.cairn.start("broken", {});
    // The retry backoff runs on the test clock: move it on until the run ends.
    const clock = t.clock;
    const advancing = setInterval(() => clock.advance("1s"), 20);
    await expect(run.result())
      .rejects.toThrow(/ValueError: the disk is on fire/)
      .finally(() => clearInterval(advancing));
    expect(pages).toHaveLength(1);
    expect(String((pages[0] as { error: string }).error)).toMatch(/disk is on fire/);
    const boom = (await run.info()).steps.find((s) => s.key === "boom");
    expect(boom?.attempt).toBe(2);
  });

  it("keeps the version a run started with when a new version is deployed", async () => {
    t = await testCairn();
    const v1 = `
name: versioned
steps:
  - id: wait
    approval: {}
  - id: say
    needs: [wait]
    script: { lang: bash, source: "echo one" }
`;
    await t.cairn.flows.deploy(v1);
    expect((await t.cairn.flows.deploy(v1)).created).toBe(false);
    const run = await t.cairn.start("versioned", {});
    await waitForStatus(t.cairn, run.id, "waiting");
    t.clock.advance(1);
    const v2 = await t.cairn.flows.deploy(v1.replace("echo one", "echo two"));
    expect(v2).toMatchObject({ version: 2, created: true });
    await t.cairn.signal(run.id, "approval:wait", { approved: true });
    expect(await run.result()).toEqual({ wait: { approved: true }, say: "one" });
    const next = await t.cairn.start("versioned", {});
    await waitForStatus(t.cairn, next.id, "waiting");
    await t.cairn.signal(next.id, "approval:wait", { approved: true });
    expect(await next.result()).toEqual({ wait: { approved: true }, say: "two" });
  });

  it("cancelling a flow run kills its running script's whole process group", async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import("node:fs");
    const { execFileSync } = await import("node:child_process");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "cairn-cancel-"));
    const marker = `cairn-cancel-${process.pid}-${Date.now()}`;
    const started = join(dir, "started");
    try {
      t = await testCairn();
      await t.cairn.flows.deploy(`
name: long-script
steps:
  - id: work
    script:
      lang: bash
      source: |
        bash -c 'exec -a ${marker} sleep 300' &
        echo up > ${started}
        wait
`);
      const run = await t.cairn.start("long-script", {});
      const ps = () =>
        execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
          .split("\n")
          .filter((l) => l.startsWith(marker));
      for (;;) {
        let up = "";
        try {
          up = readFileSync(started, "utf8");
        } catch {}
        if (up.includes("up") && ps().length === 1) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await t.cairn.cancel(run.id);
      expect((await run.info()).status).toBe("cancelled");
      // The runner sends SIGTERM, then SIGKILL after its grace period: wait for the group to go.
      const deadline = Date.now() + 10_000;
      while (ps().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(ps()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a running worker picks up a flow another process deployed after it started", async () => {
    t = await testCairn();
    const { Cairn } = await import("../../src/index.ts");
    // No worker here: a deployer and starter without code, like `cairn flows deploy` + `cairn run`.
    const other = await Cairn.open({ db: t.db });
    try {
      await other.flows.deploy(`
name: late
steps:
  - id: hi
    script: { lang: bash, source: "echo late" }
output: "=steps.hi"
`);
      const run = await other.start("late", {});
      // The worker polls (for runs and for flows) on its clock, the test clock: move it on.
      const clock = t.clock;
      const advancing = setInterval(() => clock.advance("1s"), 20);
      try {
        expect(await t.cairn.handle(run.id).result()).toBe("late");
      } finally {
        clearInterval(advancing);
      }
    } finally {
      await other.close();
    }
  });
});
