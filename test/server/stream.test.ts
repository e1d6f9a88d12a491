import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readServerSentEvents } from "../../src/client/sse.ts";
import { Cairn, defineWorkflow } from "../../src/index.ts";
import { TestClock, waitForStatus } from "../../src/testing/index.ts";
import { testStore } from "../support/engine.ts";
import { type Harness, startHarness } from "./harness.ts";
import { echo } from "./workflows.ts";

type Update = { type: string; runId: string; status: string; key?: string; kind?: string };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ server: { streamPollMs: 50, streamHeartbeatMs: 100 } });
});
afterAll(async () => {
  await h.close();
});

/** Opens the stream and collects updates until `until` says stop. */
async function collect(
  path: string,
  until: (updates: Update[]) => boolean,
  onOpen?: () => Promise<void>,
) {
  const abort = new AbortController();
  const res = await h.fetch(path, {
    signal: abort.signal,
    headers: { Accept: "text/event-stream" },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  if (!res.body) throw new Error("no body");
  const updates: Update[] = [];
  const done = new Promise<void>((resolve) => {
    void readServerSentEvents(
      res.body as ReadableStream<Uint8Array>,
      (event) => {
        updates.push(JSON.parse(event.data) as Update);
        if (until(updates)) resolve();
      },
      abort.signal,
    );
  });
  await onOpen?.();
  const timeout = setTimeout(() => abort.abort(), 8_000);
  await done;
  clearTimeout(timeout);
  abort.abort();
  return updates;
}

describe("GET /api/v1/stream", () => {
  it("streams a run's status and step updates as they happen", async () => {
    await h.post("/api/v1/runs", { workflow: "gated", id: "streamed" });
    await waitForStatus(h.cairn, "streamed", "waiting");
    const updates = await collect(
      "/api/v1/stream?run=streamed",
      (u) => u.some((x) => x.type === "run" && x.status === "completed"),
      async () => {
        await h.post("/api/v1/runs/streamed/signals/go", { payload: 1 });
      },
    );
    expect(updates[0]).toMatchObject({ type: "run", runId: "streamed", status: "waiting" });
    expect(updates.every((u) => u.runId === "streamed")).toBe(true);
    const steps = updates.filter((u) => u.type === "step").map((u) => `${u.key}:${u.status}`);
    expect(steps).toEqual(expect.arrayContaining(["after:started", "after:completed"]));
    expect(updates.at(-1)).toMatchObject({ type: "run", status: "completed" });
  });

  it("reports runs changed by another process, found by polling the change feed", async () => {
    // A second engine on the same database, with no worker: what `cairn run` in another
    // terminal would be. Its events never reach this server's `subscribe`.
    const other = await Cairn.open({ db: h.db, clock: h.clock, workflows: [echo] });
    try {
      let advanced = false;
      const updates = await collect(
        "/api/v1/stream",
        (u) => {
          // Once the stream has shown the queued run, let this server's worker find it at its
          // next poll (on the test clock) and run it.
          if (!advanced && u.some((x) => x.runId === "elsewhere")) {
            advanced = true;
            h.clock.advance("5s");
          }
          return u.some((x) => x.runId === "elsewhere" && x.status === "completed");
        },
        async () => {
          await other.start(echo, "hi", { id: "elsewhere" });
        },
      );
      const statuses = updates.filter((u) => u.runId === "elsewhere").map((u) => u.status);
      // On PostgreSQL, NOTIFY wakes this server's worker at once: the first status the feed
      // sees may already be "running".
      expect(["queued", "running"]).toContain(statuses[0]);
      expect(statuses).toContain("completed");
    } finally {
      await other.close();
    }
  });

  it("sends heartbeat comments", async () => {
    const abort = new AbortController();
    const res = await h.fetch("/api/v1/stream", { signal: abort.signal });
    const reader = (res.body as ReadableStream<Uint8Array>)
      .pipeThrough(new TextDecoderStream())
      .getReader();
    let text = "";
    while (!text.includes(": heartbeat")) text += (await reader.read()).value ?? "";
    expect(text).toContain("retry: 2000");
    abort.abort();
  });

  it("answers 404 for a stream of a run that does not exist", async () => {
    const res = await h.fetch("/api/v1/stream?run=nobody");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  it("ends open streams when the server closes", async () => {
    const other = await startHarness();
    const res = await other.fetch("/api/v1/stream");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // connected
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    for (;;) {
      const { done } = await reader.read().catch(() => ({ done: true }));
      if (done) break;
    }
  });
});

describe("a run's end in another process", () => {
  // The server's own poll is ten minutes apart: only the store's announcement of the end
  // (NOTIFY on PostgreSQL; a read of the streams' runs after another connection's commit
  // on SQLite) can bring the update.
  let slow: Harness;
  beforeAll(async () => {
    slow = await startHarness({ workflows: [], server: { streamPollMs: 600_000 } });
  });
  afterAll(async () => {
    await slow.close();
  });

  /**
   * Another process with the code executes a run and holds its step until the stream at
   * `path` is open; returns the run's statuses the stream sent, up to "completed". `clock`
   * is that process's clock; `claimed`: whether the run is created claimed by its worker
   * (else it is started before that worker runs, as a `cairn server` starts runs).
   */
  async function endElsewhere(
    id: string,
    path: string,
    { clock, claimed }: { clock: TestClock; claimed: boolean },
  ): Promise<string[]> {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gated = defineWorkflow({ name: "gated" }, async (ctx, input: string) => {
      await ctx.step("hold", () => held);
      return ctx.step("echo", () => input);
    });
    const other = await Cairn.open({ db: slow.db, clock, workflows: [gated] });
    try {
      if (claimed) await other.worker();
      await other.start(gated, "hi", { id });
      if (!claimed) await other.worker();
      const abort = new AbortController();
      const res = await slow.fetch(path, { signal: abort.signal });
      const statuses: string[] = [];
      const completed = new Promise<void>((resolve) => {
        void readServerSentEvents(
          res.body as ReadableStream<Uint8Array>,
          (event) => {
            const update = JSON.parse(event.data) as Update;
            if (update.type !== "run" || update.runId !== id) return;
            statuses.push(update.status);
            if (update.status === "completed") resolve();
          },
          abort.signal,
        );
      });
      release();
      await completed; // the test's own timeout is the guard
      abort.abort();
      return statuses;
    } finally {
      await other.close();
    }
  }

  it("reaches a stream for that run, even stamped before what the change feed has passed", async () => {
    // That process's clock is a minute behind the server's: the run's end is stamped before
    // the feed's cursor, and only the stream's read of the announced run brings it.
    const behind = new TestClock(slow.clock.now() - 60_000);
    // Created claimed: its end is announced only because the stream asks for it.
    const statuses = await endElsewhere("behind", "/api/v1/stream?run=behind", {
      clock: behind,
      claimed: true,
    });
    expect(statuses[0]).toBe("running");
    expect(statuses.at(-1)).toBe("completed");
  });

  // A run created unclaimed is announced to all. SQLite names only awaited runs' ends, so
  // there a stream for every run keeps its poll.
  it.skipIf(testStore === "sqlite")(
    "reaches a stream for every run through the change feed, polled at the announcement",
    async () => {
      const statuses = await endElsewhere("any", "/api/v1/stream", {
        clock: slow.clock,
        claimed: false,
      });
      expect(statuses).toContain("completed");
    },
  );
});
