import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { RunId } from "../src/core/types.ts";
import {
  Cairn,
  CairnError,
  defineWorkflow,
  NonDeterminismError,
  NonRetryableError,
  PayloadTooLargeError,
  RetryableError,
  StepTimeoutError,
} from "../src/index.ts";
import { createMetrics } from "../src/server/metrics.ts";
import {
  nextEngineEvent,
  type TestCairn,
  waitForRun,
  waitForStatus,
} from "../src/testing/index.ts";
import { claimPass, probeWorkflow } from "./support/claim-pass.ts";
import { testCairn } from "./support/engine.ts";

let t: TestCairn | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe("steps", () => {
  it("runs sequential and parallel steps and returns the typed result", async () => {
    const wf = defineWorkflow({ name: "seq-par" }, async (ctx, n: number) => {
      const a = await ctx.step("a", () => n + 1);
      const b = await ctx.step("b", async () => a * 2);
      const parts = await Promise.all([1, 2, 3].map((i) => ctx.step(`p${i}`, () => i * b)));
      return { a, b, parts };
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, 4);
    const result: { a: number; b: number; parts: number[] } = await run.result();
    expect(result).toEqual({ a: 5, b: 10, parts: [10, 20, 30] });
    const info = await t.cairn.getRun(run.id);
    expect(info.status).toBe("completed");
    expect(info.steps.map((s) => s.key)).toEqual(["a", "b", "p1", "p2", "p3"]);
    expect(info.steps.every((s) => s.status === "completed" && s.durationMs !== null)).toBe(true);
  });

  it("starts no parallel step before the previous step's entry is durable", async () => {
    // Every branch of a Promise.all must wait for the entry queued before it, not only the
    // first: a branch that ran ahead would act on a step its run may still lose (fenced).
    const ran: string[] = [];
    const wf = defineWorkflow({ name: "flush-all-branches" }, async (ctx) => {
      await ctx.step("a", () => ran.push("a"));
      await Promise.all(["b", "c", "d"].map((k) => ctx.step(k, () => ran.push(k))));
    });
    t = await testCairn({ workflows: [wf] });
    const store = t.cairn.store;
    const commit = store.commit.bind(store);
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let heldEntry: () => void = () => {};
    const entryHeld = new Promise<void>((resolve) => {
      heldEntry = resolve;
    });
    store.commit = async (ops) => {
      if (ops.some((op) => op.type === "entry" && op.entry.key === "a")) {
        heldEntry();
        await held;
      }
      return commit(ops);
    };
    const run = await t.cairn.start(wf, undefined);
    await entryHeld;
    // Give every branch its chance to run ahead while a's entry is held.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    const ranWhileHeld = [...ran];
    release();
    await run.result();
    expect(ranWhileHeld).toEqual(["a"]);
    expect(ran.slice(1).sort()).toEqual(["b", "c", "d"]);
  });

  it("keys repeated step names with an occurrence counter, so loops work", async () => {
    const wf = defineWorkflow({ name: "loop" }, async (ctx) => {
      let total = 0;
      for (let i = 0; i < 3; i++) total += await ctx.step("add", () => i);
      return total;
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    expect(await run.result()).toBe(3);
    expect((await t.cairn.getRun(run.id)).steps.map((s) => s.key)).toEqual([
      "add",
      "add#2",
      "add#3",
    ]);
  });

  it("retries a failing step and passes attempt and a stable idempotency key", async () => {
    const seen: { attempt: number; key: string }[] = [];
    const wf = defineWorkflow({ name: "flaky" }, async (ctx) =>
      ctx.step(
        "flaky",
        { retry: { maxAttempts: 3, initialInterval: 1 } },
        ({ attempt, idempotencyKey }) => {
          seen.push({ attempt, key: idempotencyKey });
          if (attempt < 3) throw new Error(`boom ${attempt}`);
          return "ok";
        },
      ),
    );
    t = await testCairn({ workflows: [wf] });
    const clock = t.clock;
    // Backoff waits on the test clock: each failed attempt moves it past the backoff. The
    // retry time is set before the event, so the next attempt finds it due or its timer
    // fired by the advance.
    const stop = t.cairn.subscribe((e) => {
      if (e.type === "step" && e.status === "retrying") queueMicrotask(() => clock.advance("1s"));
    });
    const run = await t.cairn.start(wf, undefined, { id: "flaky-1" });
    expect(await run.result()).toBe("ok");
    stop();
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
    expect(new Set(seen.map((s) => s.key))).toEqual(new Set(["flaky-1:flaky"]));
    const [step] = (await t.cairn.getRun(run.id)).steps;
    expect(step?.attempt).toBe(3);
  });

  it("stops retrying on NonRetryableError and rethrows it from result()", async () => {
    let calls = 0;
    const wf = defineWorkflow({ name: "declined", retry: { maxAttempts: 5 } }, async (ctx) =>
      ctx.step("charge", () => {
        calls++;
        throw new NonRetryableError("card declined");
      }),
    );
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await expect(run.result()).rejects.toThrow("card declined");
    await expect(run.result()).rejects.toBeInstanceOf(NonRetryableError);
    expect(calls).toBe(1);
    const info = await t.cairn.getRun(run.id);
    expect(info.status).toBe("failed");
    expect(info.error).toMatchObject({ name: "NonRetryableError", message: "card declined" });
    expect(info.steps[0]).toMatchObject({ status: "failed", attempt: 1 });
  });

  it("fails after maxAttempts and records the last error with name, message and stack", async () => {
    const wf = defineWorkflow({ name: "always-fails" }, async (ctx) =>
      ctx.step("x", { retry: { maxAttempts: 2, initialInterval: 0 } }, () => {
        throw new TypeError("bad thing");
      }),
    );
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await expect(run.result()).rejects.toThrow("bad thing");
    const info = await t.cairn.getRun(run.id);
    expect(info.error?.name).toBe("TypeError");
    expect(info.error?.stack).toContain("bad thing");
    expect(info.steps[0]?.attempt).toBe(2);
  });

  it("honours RetryableError's retryAfter, waiting out a long backoff without a worker slot", async () => {
    let calls = 0;
    const wf = defineWorkflow({ name: "rate-limited" }, async (ctx) =>
      ctx.step("call", () => {
        calls++;
        if (calls === 1) throw new RetryableError("429", { retryAfterMs: 60_000 });
        return calls;
      }),
    );
    t = await testCairn({ workflows: [wf, probeWorkflow] });
    const run = await t.cairn.start(wf, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    expect((await t.cairn.getRun(run.id)).steps[0]).toMatchObject({
      status: "retrying",
      attempt: 1,
    });
    t.clock.advance("59s");
    await claimPass(t.cairn);
    expect((await t.cairn.getRun(run.id)).status).toBe("waiting");
    expect(calls).toBe(1);
    t.clock.advance("1s");
    expect(await run.result()).toBe(2);
  });

  it("a step timeout aborts the attempt's signal and fails with StepTimeoutError", async () => {
    let aborted: unknown;
    const wf = defineWorkflow({ name: "slow" }, async (ctx) =>
      ctx.step("slow", { timeout: "30s", retry: { maxAttempts: 1 } }, ({ signal }) => {
        return new Promise((_, reject) => {
          signal.addEventListener("abort", () => {
            aborted = signal.reason;
            reject(signal.reason);
          });
        });
      }),
    );
    t = await testCairn({ workflows: [wf] });
    // The attempt's timeout timer is set as the attempt starts, before this await resumes.
    const started = nextEngineEvent(
      t.cairn,
      (e) => e.type === "step" && e.key === "slow" && e.status === "started",
    );
    const run = await t.cairn.start(wf, undefined);
    await started;
    t.clock.advance("30s");
    await expect(run.result()).rejects.toThrow(/timed out after 30000 ms/);
    expect(aborted).toBeInstanceOf(StepTimeoutError);
  });

  it("a clock jump past the lease while a step runs neither reruns nor loses the step", async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const wf = defineWorkflow({ name: "held" }, async (ctx) =>
      ctx.step("held", async () => {
        calls++;
        await gate;
        return calls;
      }),
    );
    t = await testCairn({ workflows: [wf, probeWorkflow] });
    const started = nextEngineEvent(
      t.cairn,
      (e) => e.type === "step" && e.key === "held" && e.status === "started",
    );
    const run = await t.cairn.start(wf, undefined);
    await started;
    // Every timer fires at once: the heartbeat's renewal and the worker's next claim race.
    t.clock.advance("1h");
    await claimPass(t.cairn);
    await claimPass(t.cairn);
    release();
    expect(await run.result()).toBe(1);
    expect(calls).toBe(1);
  });

  it("round-trips Date, BigInt, Map, Set, undefined and Error through a step", async () => {
    const value = {
      when: new Date("2030-01-02T03:04:05Z"),
      big: 12345678901234567890n,
      map: new Map([["k", 1]]),
      set: new Set(["a"]),
      nothing: undefined,
      err: new Error("kept"),
    };
    const wf = defineWorkflow({ name: "types" }, async (ctx) => {
      const out = await ctx.step("make", () => value);
      return out;
    });
    t = await testCairn({ workflows: [wf] });
    const result = await (await t.cairn.start(wf, undefined)).result();
    expect(result.when).toEqual(value.when);
    expect(result.big).toBe(value.big);
    expect(result.map.get("k")).toBe(1);
    expect(result.set.has("a")).toBe(true);
    expect("nothing" in result).toBe(true);
    expect(result.err).toBeInstanceOf(Error);
    expect(result.err.message).toBe("kept");
  });

  it("fails a step whose output is over the payload limit, writing nothing for it", async () => {
    const wf = defineWorkflow({ name: "big" }, async (ctx) =>
      ctx.step("big", () => "x".repeat(2000)),
    );
    t = await testCairn({ workflows: [wf], payloadLimitBytes: 1000 });
    const run = await t.cairn.start(wf, undefined);
    await expect(run.result()).rejects.toBeInstanceOf(PayloadTooLargeError);
    const info = await t.cairn.getRun(run.id);
    expect(info.steps[0]).toMatchObject({ status: "failed", output: undefined });
    expect(info.error?.message).toMatch(/over the payload limit of 1000 bytes/);
  });

  it("fails a step that returns a function with a SerializationError", async () => {
    const wf = defineWorkflow({ name: "fn-out" }, async (ctx) =>
      ctx.step("f", () => ({ f: () => 1 })),
    );
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await expect(run.result()).rejects.toThrow(/cannot be serialized: a function is not data/);
  });
});

describe("starting runs", () => {
  const order = defineWorkflow(
    { name: "order", input: z.object({ id: z.string(), total: z.number().positive() }) },
    async (ctx, input) => ctx.step("charge", () => input.total * 2),
  );

  it("is idempotent by id: a second start returns the existing run", async () => {
    t = await testCairn({ workflows: [order] });
    const first = await t.cairn.start(order, { id: "o1", total: 10 }, { id: "order-o1" });
    const second = await t.cairn.start(order, { id: "o1", total: 99 }, { id: "order-o1" });
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(await second.result()).toBe(20);
    expect((await t.cairn.listRuns({ workflow: "order" })).length).toBe(1);
  });

  it("rejects invalid input with the failing path and creates no run", async () => {
    t = await testCairn({ workflows: [order] });
    const attempt = t.cairn.start(order, { id: "o1", total: -1 } as never, { id: "bad" });
    await expect(attempt).rejects.toThrow(/Invalid input for workflow "order": at total:/);
    await expect(t.cairn.getRun("bad")).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
  });

  it("rejects an unknown workflow name", async () => {
    t = await testCairn({ workflows: [order] });
    const error = await t.cairn.start("nope", {}).catch((e: unknown) => e);
    expect(CairnError.is(error) && error.code).toBe("WORKFLOW_NOT_FOUND");
    expect(String(error)).toMatch(
      /Unknown workflow "nope": no worker has registered it \(registered here: order\)/,
    );
  });

  it("rejects an input over the payload limit before writing", async () => {
    const echo = defineWorkflow({ name: "echo" }, async (_ctx, s: string) => s);
    t = await testCairn({ workflows: [echo], payloadLimitBytes: 100 });
    await expect(t.cairn.start(echo, "y".repeat(500), { id: "big" })).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    );
    await expect(t.cairn.getRun("big")).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
  });
});

describe("determinism", () => {
  it("journals now, random and uuid: a replay sees the recorded values", async () => {
    const wf = defineWorkflow({ name: "journaled" }, async (ctx) => {
      const values = { now: ctx.now(), random: ctx.random(), uuid: ctx.uuid() };
      await ctx.sleep("nap", "1m");
      return { ...values, again: { now: ctx.now() } };
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    const recorded = await t.cairn.getRun(run.id);
    t.clock.advance("1m");
    const result = await run.result();
    // The run was replayed after the sleep; the values from before it are the recorded ones.
    expect(result.now.getTime()).toBe(recorded.steps[0]?.output);
    expect(result.random).toBe(recorded.steps[1]?.output);
    expect(result.uuid).toBe(recorded.steps[2]?.output);
    expect(result.again.now.getTime()).toBeGreaterThan(result.now.getTime());
  });

  it("reports non-determinism when a replay reaches a different step", async () => {
    let calls = 0;
    const wf = defineWorkflow({ name: "diverges" }, async (ctx) => {
      calls++;
      await ctx.step(calls === 1 ? "charge" : "refund", () => "x");
      await ctx.sleep("pause", "1m");
      return "done";
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    t.clock.advance("1m");
    const error = await run.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonDeterminismError);
    expect(String((error as Error).message)).toBe(
      'Non-determinism at journal position 0: the journal recorded step "charge" but the code now calls step "refund". ' +
        "Code between steps must be deterministic. To change a workflow under runs in flight, guard the change with ctx.patched(id) or register the new code as a new version beside the old one; `cairn replay --all` checks a deploy first. " +
        "A value that differs from one execution to the next (Math.random(), Date.now(), new Date(), crypto.randomUUID()) " +
        "must not steer which ctx calls the workflow makes: use ctx.random(), ctx.now() or ctx.uuid(), or compute it inside a step.",
    );
  });

  it("a diverging run is failed even if the workflow catches the error", async () => {
    let calls = 0;
    const wf = defineWorkflow({ name: "catches" }, async (ctx) => {
      calls++;
      try {
        await ctx.step(calls === 1 ? "a" : "b", () => 1);
      } catch {
        return "swallowed";
      }
      await ctx.sleep("pause", "1m");
      return "done";
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    t.clock.advance("1m");
    await expect(run.result()).rejects.toBeInstanceOf(NonDeterminismError);
  });
});

describe("replaying parallel branches", () => {
  it("resumes branches of sequential steps whichever branch finished first", async () => {
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const wf = defineWorkflow({ name: "branches" }, async (ctx) => {
      const [a, b] = await Promise.all([
        (async () => {
          const a1 = await ctx.step("a1", async () => {
            await pause(40);
            return 1;
          });
          return ctx.step("a2", () => a1 + 1);
        })(),
        (async () => {
          const b1 = await ctx.step("b1", async () => {
            await pause(5);
            return 10;
          });
          return ctx.step("b2", () => b1 + 1);
        })(),
      ]);
      await ctx.sleep("pause", "1s");
      return a + b;
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    // Live, b's steps took positions before a2; the replay must call them in the same order.
    expect((await t.cairn.getRun(run.id)).steps.map((s) => s.key)).toEqual([
      "a1",
      "b1",
      "b2",
      "a2",
      "pause",
    ]);
    t.clock.advance("1s");
    expect(await run.result()).toBe(13);
  });

  it("maps repeated step names in parallel loops to the same items on replay", async () => {
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const wf = defineWorkflow({ name: "items" }, async (ctx) => {
      const saved = await Promise.all(
        [30, 5, 15].map(async (ms) => {
          const fetched = await ctx.step("fetch", async () => {
            await pause(ms);
            return ms;
          });
          return ctx.step("save", () => `saved-${fetched}`);
        }),
      );
      await ctx.sleep("pause", "1s");
      return saved;
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    t.clock.advance("1s");
    expect(await run.result()).toEqual(["saved-30", "saved-5", "saved-15"]);
  });
});

describe("replaying outcomes resolved at a claim", () => {
  it("a sleep resolved when the run is claimed keeps its place before later steps", async () => {
    const wf = defineWorkflow({ name: "sleep-first" }, async (ctx) => {
      await ctx.sleep("arrive", "1s");
      const a = await ctx.step("charge", () => 1);
      const b = await ctx.step("ship", () => 2);
      await ctx.sleep("cool-off", "1s");
      return a + b;
    });
    t = await testCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, undefined);
    await waitForStatus(t.cairn, run.id, "waiting");
    t.clock.advance("1s");
    // Wait for the second sleep, then replay everything recorded so far.
    const cairn = t.cairn;
    await waitForRun(
      cairn,
      run.id,
      async () => {
        const info = await cairn.getRun(run.id);
        return info.status === "waiting" && info.steps.some((s) => s.key === "cool-off");
      },
      "waiting in the second sleep",
    );
    t.clock.advance("1s");
    expect(await run.result()).toBe(3);
  });
});

describe("poison runs", () => {
  it("a run whose workers keep dying without progress fails with PoisonRunError, counted in metrics", async () => {
    const name = "poison-in-process";
    t = await testCairn({});
    const { store } = t.cairn;
    const at = t.clock.now();
    const lease = 1000;
    // Two dead workers, played at the store: the first recorded step "prepare" and a failed
    // attempt of "explode", the second took the run over and recorded nothing.
    await store.createRun({ id: "poisoned" as RunId, workflow: name, input: null, createdAt: at });
    const [first] = await store.claimRuns("dead-1", { workflows: [name] }, at, lease, 1);
    const entry = (position: number, key: string, status: "completed" | "retrying") => ({
      position,
      key,
      kind: "step" as const,
      status,
      output: status === "completed" ? '{"json":1}' : null,
      error: status === "retrying" ? '{"name":"Error","message":"boom"}' : null,
      attempt: 1,
      startedAt: at,
      finishedAt: at,
      wakeAt: status === "retrying" ? at : null,
      detail: null,
      seq: status === "completed" ? 1 : null,
    });
    const token = first?.token ?? 0;
    await store.commit([
      { type: "entry", runId: "poisoned" as RunId, token, entry: entry(0, "prepare", "completed") },
      { type: "entry", runId: "poisoned" as RunId, token, entry: entry(1, "explode", "retrying") },
    ]);
    const [second] = await store.claimRuns(
      "dead-2",
      { workflows: [name] },
      at + lease + 1,
      lease,
      1,
    );
    expect(second).toMatchObject({ takeover: true, crashes: 1 });
    t.clock.advance(2 * lease + 2);

    let executed = false;
    const wf = defineWorkflow({ name, maxCrashes: 2 }, async (ctx) => {
      executed = true;
      await ctx.step("prepare", () => 1);
      return ctx.step("explode", () => 2);
    });
    const other = await Cairn.open({ db: t.db, clock: t.clock, workflows: [wf] });
    try {
      const silent = { info() {}, warn() {}, error() {}, child: () => silent };
      const metrics = createMetrics(other, silent);
      const unsubscribe = other.subscribe((event) => metrics.observe(event));
      await other.worker();
      await waitForStatus(other, "poisoned", "failed");
      unsubscribe();
      const run = await other.getRun("poisoned");
      expect(executed).toBe(false);
      expect(run.error).toMatchObject({ name: "PoisonRunError", code: "POISON_RUN" });
      expect(run.error?.message).toContain('2 workers in a row died running it in step "explode"');
      expect(await metrics.render()).toContain(`cairn_poison_runs_total{workflow="${name}"} 1`);
    } finally {
      await other.close();
    }
  });
});

describe("awaiting a run that executes in this process", () => {
  it("result() takes the output, or the error, from the run's finish here, not from a read of the store", async () => {
    const ok = defineWorkflow({ name: "local-ok" }, (ctx) => ctx.step("a", () => ({ n: 1 })));
    const bad = defineWorkflow({ name: "local-bad" }, (ctx) =>
      ctx.step("a", () => {
        throw new NonRetryableError("refused");
      }),
    );
    t = await testCairn({ workflows: [ok, bad] });
    // Reads see the runs as still running (as a read racing the commit would): only the
    // finish notice can end the waits. A poll on a slow machine changes nothing.
    const store = t.cairn.store;
    const getRun = store.getRun.bind(store);
    store.getRun = async (id) => {
      const run = await getRun(id);
      return run && { ...run, status: "running", output: null, error: null };
    };
    expect(await (await t.cairn.start(ok, undefined)).result()).toEqual({ n: 1 });
    await expect((await t.cairn.start(bad, undefined)).result()).rejects.toThrow("refused");
  });
});
