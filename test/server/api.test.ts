import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForStatus } from "../../src/testing/index.ts";
import { type Harness, json, startHarness } from "./harness.ts";

type Run = {
  id: string;
  workflow: string;
  status: string;
  input?: unknown;
  output?: unknown;
  outputMeta?: Record<string, unknown>;
  error: { name: string; message: string } | null;
  steps: { key: string; kind: string; status: string; output?: unknown }[];
};
type Page = { runs: { id: string; workflow: string; status: string }[]; nextCursor: string | null };
type Problem = { type: string; title: string; status: number; detail: string; code: string };

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

async function finished(id: string): Promise<Run> {
  await waitForStatus(h.cairn, id, ["completed", "failed", "cancelled"]);
  return json<Run>(await h.fetch(`/api/v1/runs/${encodeURIComponent(id)}`));
}

describe("runs", () => {
  it("starts a run (201), then returns the same run for the same id (200), saying whether the input matched", async () => {
    const first = await h.post("/api/v1/runs", {
      workflow: "greet",
      input: { name: "Ada" },
      id: "greet-1",
    });
    expect(first.status).toBe(201);
    expect(first.headers.get("location")).toBe("/api/v1/runs/greet-1");
    expect(await json(first)).toMatchObject({
      id: "greet-1",
      workflow: "greet",
      created: true,
      inputMatches: true,
    });

    const same = await h.post("/api/v1/runs", {
      workflow: "greet",
      input: { name: "Ada" },
      id: "greet-1",
    });
    expect(same.status).toBe(200);
    expect(await json(same)).toMatchObject({ created: false, inputMatches: true });

    const again = await h.post("/api/v1/runs", {
      workflow: "greet",
      input: { name: "Bob" },
      id: "greet-1",
    });
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({
      id: "greet-1",
      created: false,
      inputMatches: false,
      input: { name: "Ada" },
    });
    const run = await finished("greet-1");
    expect(run.input).toEqual({ name: "Ada" }); // the first start's input, not the second's
    expect(run.status).toBe("completed");
    expect(run.output).toEqual({ greeting: "hello Ada", at: "2030-01-02T00:00:00.000Z" });
    expect(run.outputMeta).toEqual({ values: { at: ["Date"] }, v: 1 });
    expect(run.steps.map((s) => `${s.key}:${s.status}`)).toEqual([
      "hello:completed",
      "stamp:completed",
    ]);
    expect(
      (await h.cairn.listRuns({ workflow: "greet" })).filter((r) => r.id === "greet-1"),
    ).toHaveLength(1);
  });

  it("refuses to reuse a run id for another workflow (409)", async () => {
    const res = await h.post("/api/v1/runs", { workflow: "echo", input: 1, id: "greet-1" });
    expect(res.status).toBe(409);
    expect((await json<Problem>(res)).detail).toContain('workflow "greet"');
  });

  it("rejects input the workflow's schema refuses (422) and creates nothing", async () => {
    const res = await h.post("/api/v1/runs", {
      workflow: "greet",
      input: { name: 5 },
      id: "bad-input",
    });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = await json<Problem>(res);
    expect(problem).toMatchObject({ code: "INVALID_INPUT", status: 422 });
    expect(problem.detail).toContain("at name");
    expect((await h.fetch("/api/v1/runs/bad-input")).status).toBe(404);
  });

  it("gets a run's steps", async () => {
    await h.post("/api/v1/runs", { workflow: "greet", input: { name: "Cy" }, id: "greet-steps" });
    await finished("greet-steps");
    const body = await json<{ runId: string; steps: Run["steps"] }>(
      await h.fetch("/api/v1/runs/greet-steps/steps"),
    );
    expect(body.runId).toBe("greet-steps");
    expect(body.steps[0]).toMatchObject({
      key: "hello",
      kind: "step",
      status: "completed",
      output: "hello Cy",
    });
  });

  it("answers a run's result at its end, or its status when the wait ends first", async () => {
    type Result = { runId: string; status: string; output?: unknown; error: Run["error"] };
    await h.post("/api/v1/runs", { workflow: "gated", id: "result-held" });
    await waitForStatus(h.cairn, "result-held", "waiting");
    const held = await json<Result>(await h.fetch("/api/v1/runs/result-held/result?waitMs=0"));
    expect(held).toEqual({ runId: "result-held", status: "waiting", error: null });
    // Asked before the end, answered at it.
    const waiting = h.fetch("/api/v1/runs/result-held/result?waitMs=60000");
    expect((await h.post("/api/v1/runs/result-held/signals/go", { payload: 1 })).status).toBe(202);
    expect(await json<Result>(await waiting)).toEqual({
      runId: "result-held",
      status: "completed",
      output: { got: 1 },
      error: null,
    });
    await h.post("/api/v1/runs", { workflow: "greet", input: { name: "Di" }, id: "result-done" });
    await finished("result-done");
    const done = await json<Result>(await h.fetch("/api/v1/runs/result-done/result"));
    expect(done).toMatchObject({ runId: "result-done", status: "completed", error: null });
    expect(done.output).toMatchObject({ greeting: "hello Di" });
    expect((await h.fetch("/api/v1/runs/nobody/result?waitMs=0")).status).toBe(404);
    const tooLong = await h.fetch("/api/v1/runs/result-done/result?waitMs=60001");
    expect(tooLong.status).toBe(400);
    expect((await json<Problem>(tooLong)).detail).toContain("waitMs");
  });

  it("lists runs with filters and keyset pagination", async () => {
    for (let i = 0; i < 5; i++)
      await h.post("/api/v1/runs", { workflow: "echo", input: i, id: `page-${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?workflow=echo&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const page: Page = await json<Page>(await h.fetch(`/api/v1/runs${query}`));
      expect(page.runs.length).toBeLessThanOrEqual(2);
      seen.push(...page.runs.map((r) => r.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    // Newest first; all created in the same (test clock) millisecond, so by id descending.
    expect(seen).toEqual(["page-4", "page-3", "page-2", "page-1", "page-0"]);

    const failed = await json<Page>(await h.fetch("/api/v1/runs?status=failed"));
    expect(failed.runs.every((r) => r.status === "failed")).toBe(true);
    const now = h.clock.now();
    const later = await json<Page>(await h.fetch(`/api/v1/runs?createdAfter=${now + 1}`));
    expect(later.runs).toEqual([]);
    const before = await json<Page>(
      await h.fetch(`/api/v1/runs?workflow=echo&createdBefore=${new Date(now + 1).toISOString()}`),
    );
    expect(before.runs.length).toBeGreaterThanOrEqual(5);
  });

  it("answers 400 for a forged cursor or a bad filter", async () => {
    const forged = await h.fetch("/api/v1/runs?cursor=bm90LWEtY3Vyc29y");
    expect(forged.status).toBe(400);
    expect((await json<Problem>(forged)).code).toBe("invalid_cursor");
    const status = await h.fetch("/api/v1/runs?status=sleeping");
    expect(status.status).toBe(400);
    expect((await json<Problem>(status)).detail).toMatch(/^query\.status: /);
    expect((await h.fetch("/api/v1/runs?limit=0")).status).toBe(400);
    expect((await h.fetch("/api/v1/runs?createdAfter=yesterday")).status).toBe(400);
  });

  it("cancels a waiting run, and cancelling again changes nothing", async () => {
    await h.post("/api/v1/runs", { workflow: "gated", id: "to-cancel" });
    await waitForStatus(h.cairn, "to-cancel", "waiting");
    const res = await h.post("/api/v1/runs/to-cancel/cancel");
    expect(res.status).toBe(200);
    expect((await json<Run>(res)).status).toBe("cancelled");
    expect((await h.post("/api/v1/runs/to-cancel/cancel")).status).toBe(200);
    expect((await h.post("/api/v1/runs/nobody/cancel")).status).toBe(404);
  });

  it("retries a failed run from its checkpoint, and refuses to retry a completed one (409)", async () => {
    await h.post("/api/v1/runs", { workflow: "flaky", input: "k1", id: "flaky-1" });
    const failed = await finished("flaky-1");
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatchObject({ name: "NonRetryableError", message: "first time fails" });
    const retried = await h.post("/api/v1/runs/flaky-1/retry");
    expect(retried.status).toBe(200);
    const done = await finished("flaky-1");
    expect(done.output).toEqual({ first: "kept", second: 2 });
    const again = await h.post("/api/v1/runs/flaky-1/retry");
    expect(again.status).toBe(409);
    expect((await json<Problem>(again)).code).toBe("INVALID_STATE");
  });

  it("replays a finished run against the server's code without side effects", async () => {
    const res = await h.post("/api/v1/runs/greet-1/replay");
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      runId: "greet-1",
      result: "consistent",
      finished: "completed",
    });
  });
});

describe("events and signals", () => {
  it("delivers an event to the waiting run, once per event id", async () => {
    await h.post("/api/v1/runs", { workflow: "approval", input: "o-7", id: "approve-7" });
    await waitForStatus(h.cairn, "approve-7", "waiting");
    const sent = await h.post("/api/v1/events", {
      name: "order.approved",
      data: { orderId: "o-7", by: "ops" },
      id: "evt-7",
    });
    expect(sent.status).toBe(202);
    expect(await json(sent)).toMatchObject({ id: "evt-7", duplicate: false });
    const repeat = await h.post("/api/v1/events", {
      name: "order.approved",
      data: {},
      id: "evt-7",
    });
    expect(await json(repeat)).toMatchObject({ id: "evt-7", duplicate: true });
    expect((await finished("approve-7")).output).toBe("approved by ops");
  });

  it("sends a signal with a payload, and 409 once the run has finished", async () => {
    await h.post("/api/v1/runs", { workflow: "gated", id: "signal-1" });
    await waitForStatus(h.cairn, "signal-1", "waiting");
    const res = await h.post("/api/v1/runs/signal-1/signals/go", { payload: { n: 1 } });
    expect(res.status).toBe(202);
    expect(await json(res)).toEqual({ runId: "signal-1", name: "go" });
    expect((await finished("signal-1")).output).toEqual({ got: { n: 1 } });
    const late = await h.post("/api/v1/runs/signal-1/signals/go", {});
    expect(late.status).toBe(409);
    expect((await json<Problem>(late)).code).toBe("RUN_NOT_ACTIVE");
    expect((await h.post("/api/v1/runs/ghost/signals/go")).status).toBe(404);
  });

  it("takes a signal without a body", async () => {
    await h.post("/api/v1/runs", { workflow: "gated", id: "signal-2" });
    await waitForStatus(h.cairn, "signal-2", "waiting");
    expect((await h.fetch("/api/v1/runs/signal-2/signals/go", { method: "POST" })).status).toBe(
      202,
    );
    expect((await finished("signal-2")).output).toEqual({ got: null });
  });
});

describe("workflows", () => {
  it("lists the registered workflows", async () => {
    const body = await json<{ workflows: { name: string; hasInputSchema: boolean }[] }>(
      await h.fetch("/api/v1/workflows"),
    );
    expect(body.workflows.map((w) => w.name)).toEqual(
      expect.arrayContaining(["greet", "echo", "gated", "approval", "declined", "flaky"]),
    );
    expect(body.workflows.find((w) => w.name === "greet")?.hasInputSchema).toBe(true);
  });
});
