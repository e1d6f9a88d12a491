import type { z } from "@hono/zod-openapi";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { connect, RemoteCairnError, type RunSummary } from "../../src/client/index.ts";
import type { WireRun, WireRunResult, WireStartedRun } from "../../src/client/wire.ts";
import { CairnError, NonRetryableError, RunCancelledError } from "../../src/index.ts";
import { createToken } from "../../src/server/index.ts";
import type {
  Run,
  RunResult,
  RunSummary as RunSummarySchema,
  StartedRun,
} from "../../src/server/schemas.ts";
import { waitForStatus } from "../../src/testing/index.ts";
import { type Harness, startHarness } from "./harness.ts";
import { declined, echo, gated, greet } from "./workflows.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe("connect(url)", () => {
  it("has wire types that accept what the server's schemas describe (checked by tsc)", () => {
    expectTypeOf<z.infer<typeof Run>>().toExtend<WireRun>();
    expectTypeOf<z.infer<typeof StartedRun>>().toExtend<WireStartedRun>();
    expectTypeOf<z.infer<typeof RunSummarySchema>>().toExtend<RunSummary>();
    expectTypeOf<z.infer<typeof RunResult>>().toExtend<WireRunResult>();
  });

  it("starts a run by definition and waits for its result, Dates intact", async () => {
    const cairn = connect(h.url);
    const run = await cairn.start(greet, { name: "Remote" }, { id: "remote-1" });
    expect(run).toMatchObject({ id: "remote-1", workflow: "greet", created: true });
    const result = await run.result();
    expect(result.greeting).toBe("hello Remote");
    expect(result.at).toEqual(new Date(Date.UTC(2030, 0, 2)));
    const again = await cairn.start(greet, { name: "Remote" }, { id: "remote-1" });
    expect(again).toMatchObject({ created: false, inputMatches: true });
    const other = await cairn.start(greet, { name: "Someone else" }, { id: "remote-1" });
    expect(other).toMatchObject({ id: "remote-1", created: false, inputMatches: false });
  });

  it("round-trips values JSON cannot hold, both ways", async () => {
    const cairn = connect(h.url);
    const input = {
      when: new Date(0),
      big: 10n ** 20n,
      tags: new Set(["a"]),
      map: new Map([[1, "one"]]),
    };
    const run = await cairn.start("echo", input);
    expect(await run.result()).toEqual(input);
    const info = await run.info();
    expect(info.input).toEqual(input);
    expect(info.createdAt).toBeInstanceOf(Date);
    expect(info.steps[0]?.output).toEqual(input);
  });

  it("rethrows the run's error with its recorded class, name and message", async () => {
    const run = await connect(h.url).start(declined, undefined);
    const error = await run.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonRetryableError);
    expect(error).toMatchObject({ name: "NonRetryableError", message: "card declined" });
  });

  it("signals, cancels and reports a cancelled run", async () => {
    const cairn = connect(h.url);
    const one = await cairn.start(gated, undefined);
    await waitForStatus(h.cairn, one.id, "waiting");
    await cairn.signal(one.id, "go", { at: new Date(5) });
    expect(await one.result()).toEqual({ got: { at: new Date(5) } });

    const two = await cairn.start(gated, undefined);
    await waitForStatus(h.cairn, two.id, "waiting");
    const pending = two.result();
    await cairn.cancel(two.id);
    await expect(pending).rejects.toBeInstanceOf(RunCancelledError);
  });

  it("sends events with dedupe", async () => {
    const cairn = connect(h.url);
    const run = await cairn.start("approval", "o-remote");
    await waitForStatus(h.cairn, run.id, "waiting");
    expect(
      await cairn.sendEvent("order.approved", { orderId: "o-remote", by: "api" }, { id: "e-r" }),
    ).toEqual({
      id: "e-r",
      duplicate: false,
      started: [],
      woke: [run.id],
    });
    expect((await cairn.sendEvent("order.approved", {}, { id: "e-r" })).duplicate).toBe(true);
    expect(await run.result()).toBe("approved by api");
  });

  it("retries a failed run", async () => {
    const cairn = connect(h.url);
    const run = await cairn.start("flaky", "remote-key");
    await expect(run.result()).rejects.toThrow("first time fails");
    const retried = await cairn.retry(run.id);
    expect(await retried.result()).toEqual({ first: "kept", second: 2 });
  });

  it("lists runs page by page", async () => {
    const cairn = connect(h.url);
    for (let i = 0; i < 3; i++) await cairn.start(echo, i, { id: `listed-${i}` });
    const first = await cairn.listRuns({ workflow: "echo", limit: 2 });
    expect(first.runs).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const second = await cairn.listRuns({
      workflow: "echo",
      limit: 2,
      cursor: first.nextCursor ?? "",
    });
    expect(second.runs.length).toBeGreaterThan(0);
    expect(second.runs.map((r) => r.id)).not.toContain(first.runs[0]?.id);
    const none = await cairn.listRuns({ createdAfter: new Date(h.clock.now() + 1) });
    expect(none.runs).toEqual([]);
  });

  it("turns server errors into CairnErrors with the server's code and status", async () => {
    const cairn = connect(h.url);
    const missing = await cairn.getRun("nope").catch((e: unknown) => e);
    expect(CairnError.is(missing)).toBe(true);
    expect(missing).toBeInstanceOf(RemoteCairnError);
    expect(missing).toMatchObject({
      code: "RUN_NOT_FOUND",
      status: 404,
      message: 'No run with id "nope".',
    });
    await expect(cairn.start("no-such", {})).rejects.toMatchObject({ code: "WORKFLOW_NOT_FOUND" });
    await expect(cairn.start(greet, { name: 1 } as never)).rejects.toMatchObject({
      code: "INVALID_INPUT",
      status: 422,
    });
  });

  it("sends its token, and reports a bad one", async () => {
    const other = await startHarness();
    try {
      const { secret } = await createToken(other.tokens, other.clock, {
        name: "client",
        role: "operator",
      });
      const run = await connect(other.url, { token: secret }).start(echo, "with token");
      expect(await run.result()).toBe("with token");
      await expect(connect(other.url).getRun(run.id)).rejects.toMatchObject({
        code: "missing_token",
        status: 401,
      });
      await expect(
        connect(other.url, { token: "cairn_wrong" }).getRun(run.id),
      ).rejects.toMatchObject({
        code: "invalid_token",
      });
    } finally {
      await other.close();
    }
  });

  it("waits for a result with one request answered at the run's end, asking again after a wait", async () => {
    const requests: string[] = [];
    const counting: typeof fetch = (input, init) => {
      requests.push(`${init?.method ?? "GET"} ${new URL(String(input)).pathname}`);
      return fetch(input, init);
    };
    // Waits of 500 ms (half the request timeout): the held run outlasts a few of them. Each
    // answer has the other 500 ms to arrive: with 100 ms, a loaded machine's PostgreSQL run
    // once missed it (the request timed out).
    const cairn = connect(h.url, { fetch: counting, timeoutMs: 1_000 });
    const run = await cairn.start(gated, undefined);
    await waitForStatus(h.cairn, run.id, "waiting");
    const pending = run.result();
    while (requests.filter((r) => r.endsWith("/result")).length < 3) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await cairn.signal(run.id, "go", { at: new Date(7) });
    expect(await pending).toEqual({ got: { at: new Date(7) } });
    // Only the long poll: no event stream, no read of the whole run.
    expect(new Set(requests)).toEqual(
      new Set([
        `POST /api/v1/runs`,
        `GET /api/v1/runs/${run.id}/result`,
        `POST /api/v1/runs/${run.id}/signals/go`,
      ]),
    );
  });

  it("keeps each wait within the route's limit under a long request timeout", async () => {
    // Half of this timeout is past the route's 60 s limit: the client asks for 30 s.
    const cairn = connect(h.url, { timeoutMs: 600_000 });
    const run = await cairn.start(echo, "patient");
    expect(await run.result()).toBe("patient");
  });

  it("asks at most every 100 ms when a short request timeout makes short waits", async () => {
    // A server that keeps answering "still running" three times, then the result.
    const asked: { at: number; waitMs: string | null }[] = [];
    const stalling: typeof fetch = async (input, init) => {
      const url = new URL(String(input));
      if (!url.pathname.endsWith("/result")) return fetch(input, init);
      asked.push({ at: performance.now(), waitMs: url.searchParams.get("waitMs") });
      const status = asked.length > 3 ? "completed" : "running";
      const body = {
        runId: "r",
        status,
        ...(status === "completed" ? { output: 1 } : {}),
        error: null,
      };
      return new Response(JSON.stringify(body), {
        headers: { "Content-Type": "application/json" },
      });
    };
    const cairn = connect(h.url, { fetch: stalling, timeoutMs: 20 });
    expect(await cairn.handle("r").result()).toBe(1);
    expect(asked.map((a) => a.waitMs)).toEqual(["10", "10", "10", "10"]);
    // Lower bounds only: a busy machine makes the gaps longer, never shorter.
    for (let i = 1; i < asked.length; i++) {
      expect((asked[i]?.at ?? 0) - (asked[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(85);
    }
  });

  it("follows a run on the event stream where the server has no result route", async () => {
    const withoutResults: typeof fetch = (input, init) =>
      new URL(String(input)).pathname.endsWith("/result")
        ? Promise.resolve(
            new Response(JSON.stringify({ code: "not_found", title: "Not found", status: 404 }), {
              status: 404,
              headers: { "Content-Type": "application/problem+json" },
            }),
          )
        : fetch(input, init);
    const cairn = connect(h.url, { fetch: withoutResults });
    const run = await cairn.start(greet, { name: "Older" });
    expect((await run.result()).greeting).toBe("hello Older");
    await expect(cairn.handle("no-such-run").result()).rejects.toMatchObject({
      code: "RUN_NOT_FOUND",
    });
  });

  it("a handle from a bare id waits like one from start", async () => {
    const cairn = connect(`${h.url}/`);
    const started = await cairn.start(echo, "bare", { id: "bare-handle" });
    await started.result();
    expect(await cairn.handle("bare-handle").result()).toBe("bare");
  });
});
