import { expect } from "vitest";
import {
  claimOne,
  describeStoreGroup,
  newRun,
  runId,
  type StoreSuiteOptions,
  stepEntry,
} from "./conformance-support.ts";
import type { RunFilter } from "./store.ts";

/**
 * The rest of the port: flow control at the claim, debounced starts, the run list's other
 * filters, release, retention, transactional steps, webhook replays, migrations, and the
 * optional members (`serverTime`, `subscribe`) where a store has them.
 */
export function runOperationsStoreSuite(options: StoreSuiteOptions): void {
  describeStoreGroup("operations", options, ({ store, test }) => {
    test("capabilities are declared as booleans", async () => {
      const { skipLocked, notify, concurrentWriters } = store().capabilities;
      for (const flag of [skipLocked, notify, concurrentWriters])
        expect(typeof flag).toBe("boolean");
      // A store that can notify offers the subscription.
      if (notify) expect(typeof store().subscribe).toBe("function");
    });

    test("a debounced start replaces the input of the burst's queued run and restarts its wait", async () => {
      const debounce = { key: "k", periodMs: 500 };
      const first = await store().createRun(newRun("d1", 1000, { debounce }));
      expect(first).toMatchObject({ created: true, run: { availableAt: 1500, debounceKey: "k" } });
      const second = await store().createRun({
        ...newRun("d2", 1200, { debounce }),
        input: '{"json":2}',
      });
      expect(second).toMatchObject({
        created: false,
        debounced: true,
        run: { id: "d1", input: '{"json":2}', availableAt: 1700 },
      });
      expect(await store().getRun(runId("d2"))).toBeUndefined();
      // Another key is another burst.
      const other = await store().createRun(
        newRun("o1", 1200, { debounce: { ...debounce, key: "x" } }),
      );
      expect(other.created).toBe(true);
      // Once the run has started, the next start begins a new burst.
      await claimOne(store(), "d1", 1700);
      const third = await store().createRun(newRun("d3", 1800, { debounce }));
      expect(third).toMatchObject({ created: true, run: { id: "d3", availableAt: 2300 } });
    });

    test("lists runs by parent and by creation window", async () => {
      await store().createRun(newRun("p", 1000));
      await store().createRun(
        newRun("c1", 1001, { parentId: runId("p"), parentPosition: 0, depth: 1 }),
      );
      await store().createRun(
        newRun("c2", 1002, { parentId: runId("p"), parentPosition: 1, depth: 1 }),
      );
      await store().createRun(newRun("x", 1003));
      const ids = async (filter: RunFilter) => (await store().listRuns(filter)).map((r) => r.id);
      expect(await ids({ parentId: runId("p") })).toEqual(["c2", "c1"]);
      expect(await ids({ createdBefore: 1002 })).toEqual(["c1", "p"]);
      // From createdAfter (inclusive) to createdBefore (exclusive).
      expect(await ids({ createdAfter: 1001, createdBefore: 1003 })).toEqual(["c2", "c1"]);
      expect((await store().getRun(runId("c1")))?.depth).toBe(1);
    });

    test("a claim says when the run has no journal to read: never claimed, none created", async () => {
      await store().createRun(newRun("fresh", 1000));
      const [first] = await store().claimRuns("w", { workflows: ["wf"] }, 2000, 1000, 1);
      expect(first).toMatchObject({ run: { id: "fresh" }, journalEmpty: true });
      // Its lease lapses without an entry: the takeover must still read (a store may not know
      // what the first worker was writing as the claim ran).
      const [again] = await store().claimRuns("w2", { workflows: ["wf"] }, 3500, 1000, 1);
      expect(again?.run.id).toBe("fresh");
      expect(again?.takeover).toBe(true);
      expect(again?.journalEmpty).not.toBe(true);
    });

    test("claims take the worker's queues only, higher priority first", async () => {
      await store().createRun(newRun("low", 1000));
      await store().createRun(newRun("high", 1001, { priority: 10 }));
      await store().createRun(newRun("mail", 999, { queue: "mail" }));
      const [first] = await store().claimRuns("w", { workflows: ["wf"] }, 2000, 1000, 1);
      expect(first?.run.id).toBe("high");
      const rest = await store().claimRuns("w", { workflows: ["wf"] }, 2000, 1000, 5);
      expect(rest.map((c) => c.run.id)).toEqual(["low"]);
      expect(await store().nextWakeAt({ workflows: ["wf"], queues: ["mail"] })).toBe(999);
      const mail = await store().claimRuns(
        "w",
        { workflows: ["wf"], queues: ["mail"] },
        2000,
        1000,
        5,
      );
      expect(mail.map((c) => c.run.id)).toEqual(["mail"]);
    });

    test("claims and wake-ups of several queues and workflows skip the runs of others", async () => {
      // Earlier runs of a queue and a workflow this worker does not serve, and of a paused one.
      await store().createRun(newRun("other-queue", 100, { queue: "gpu" }));
      await store().createRun(newRun("other-workflow", 200, { workflow: "other" }));
      await store().createRun(newRun("paused", 300, { workflow: "held" }));
      await store().setWorkflowPaused("held", true, 0);
      await store().createRun(newRun("mail", 1002, { queue: "mail", workflow: "b" }));
      await store().createRun(newRun("plain", 1001));
      await store().createRun(newRun("later", 9000, { queue: "mail" }));
      const scope = { workflows: ["wf", "b", "held"], queues: ["default", "mail"] };
      expect(await store().nextWakeAt(scope)).toBe(1001);
      const claimed = await store().claimRuns("w", scope, 2000, 1000, 5);
      expect(claimed.map((c) => c.run.id)).toEqual(["plain", "mail"]);
      expect(await store().nextWakeAt(scope)).toBe(3000); // the two leases' end
      expect(await store().nextWakeAt({ workflows: ["wf"], queues: ["mail"] })).toBe(9000);
      expect(await store().nextWakeAt({ workflows: ["b"], queues: ["default"] })).toBeNull();
    });

    test("claims and wake-ups take only the workflow versions the worker has", async () => {
      await store().createRun(newRun("v1", 1000));
      await store().createRun(newRun("v2", 1001, { workflowVersion: 2 }));
      expect((await store().getRun(runId("v2")))?.workflowVersion).toBe(2);
      const onlyV2 = { workflows: ["wf"], versions: ["wf@2"] };
      expect(await store().nextWakeAt({ ...onlyV2, versions: ["wf@3"] })).toBeNull();
      expect(await store().nextWakeAt(onlyV2)).toBe(1001);
      const claimed = await store().claimRuns("w", onlyV2, 2000, 1000, 5);
      expect(claimed.map((c) => c.run.id)).toEqual(["v2"]);
      // A run without a version is version 1; without `versions` any version is taken.
      const rest = await store().claimRuns("w", { workflows: ["wf"] }, 2000, 1000, 5);
      expect(rest.map((c) => [c.run.id, c.run.workflowVersion])).toEqual([["v1", 1]]);
    });

    test("a run over its concurrency limit is parked until a run of its key stops", async () => {
      const concurrency = { key: "k", limit: 1 };
      await store().createRun(newRun("a", 1000, { concurrency }));
      await store().createRun(newRun("b", 1001, { concurrency }));
      await store().createRun(newRun("free", 1002, { concurrency: { key: "other", limit: 1 } }));
      const claimed = await store().claimRuns("w", { workflows: ["wf"] }, 2000, 10_000, 10);
      expect(claimed.map((c) => c.run.id).sort()).toEqual(["a", "free"]);
      const parked = await store().getRun(runId("b"));
      expect(parked).toMatchObject({ status: "queued", availableAt: null });
      expect(parked?.blockedOn).not.toBeNull();
      const token = claimed.find((c) => c.run.id === "a")?.token ?? 0;
      await store().commit([
        { type: "complete", runId: runId("a"), token, output: "{}", at: 3000 },
      ]);
      expect(await store().getRun(runId("b"))).toMatchObject({
        availableAt: 3000,
        blockedOn: null,
      });
      const [next] = await store().claimRuns("w", { workflows: ["wf"] }, 3000, 10_000, 10);
      expect(next?.run.id).toBe("b");
    });

    test("a first start over its rate limit waits until the window frees", async () => {
      const rateLimit = { key: "r", limit: 1, periodMs: 1000 };
      await store().createRun(newRun("a", 1000, { rateLimit }));
      await store().createRun(newRun("b", 1001, { rateLimit }));
      const claimed = await store().claimRuns("w", { workflows: ["wf"] }, 2000, 10_000, 10);
      expect(claimed.map((c) => c.run.id)).toEqual(["a"]);
      expect(await store().getRun(runId("b"))).toMatchObject({
        status: "queued",
        availableAt: 3000,
      });
      expect(await store().claimRuns("w", { workflows: ["wf"] }, 2999, 10_000, 10)).toEqual([]);
      const [later] = await store().claimRuns("w", { workflows: ["wf"] }, 3001, 10_000, 10);
      expect(later?.run.id).toBe("b");
    });

    test("release puts a running run back in the queue and fences its old token", async () => {
      await store().createRun(newRun("r"));
      const token = await claimOne(store(), "r");
      const [released] = await store().commit([
        { type: "release", runId: runId("r"), token, at: 1500 },
      ]);
      expect(released).toEqual({ ok: true, status: "queued" });
      expect(await store().getRun(runId("r"))).toMatchObject({
        status: "queued",
        availableAt: 1500,
        leaseOwner: null,
      });
      const next = await claimOne(store(), "r", 1500);
      expect(next).toBeGreaterThan(token);
      const [stale] = await store().commit([
        { type: "entry", runId: runId("r"), token, entry: stepEntry(0, "a") },
      ]);
      expect(stale).toEqual({ ok: false, reason: "fenced", status: "running" });
    });

    test("a step between attempts waits on the run's wake time, not on a wait row", async () => {
      await store().createRun(newRun("r"));
      const token = await claimOne(store(), "r");
      const retrying = stepEntry(0, "flaky", {
        status: "retrying",
        output: null,
        error: '{"message":"boom"}',
        wakeAt: 5000,
        finishedAt: null,
      });
      const results = await store().commit([
        { type: "entry", runId: runId("r"), token, entry: retrying },
        {
          type: "suspend",
          runId: runId("r"),
          token,
          waits: [{ kind: "retry", position: 0, key: "flaky", wakeAt: 5000 }],
          availableAt: 5000,
          at: 1100,
        },
      ]);
      expect(results[1]).toEqual({ ok: true, status: "waiting" });
      expect(await store().queueStats(2000)).toEqual({
        due: 0,
        oldestDueAt: null,
        running: 0,
        waiting: 1,
      });
      expect(await store().nextWakeAt({ workflows: ["wf"] })).toBe(5000);
      const [again] = await store().claimRuns("w", { workflows: ["wf"] }, 5000, 1000, 1);
      expect(again?.run.id).toBe("r");
      // The claim leaves the retrying entry to the worker: the step runs again.
      expect((await store().getJournal(runId("r")))[0]).toMatchObject({ status: "retrying" });
    });

    test("a cancelled child fails its parent's wait with the cancellation error", async () => {
      await store().createRun(newRun("parent"));
      const token = await claimOne(store(), "parent");
      await store().createRun(
        newRun("child", 1000, {
          workflow: "kid",
          parentId: runId("parent"),
          parentPosition: 0,
          depth: 1,
        }),
      );
      await store().commit([
        {
          type: "suspend",
          runId: runId("parent"),
          token,
          waits: [{ kind: "invoke", position: 0, key: "kid", childId: runId("child") }],
          availableAt: null,
          at: 1000,
        },
      ]);
      expect(await store().cancelRun(runId("child"), '{"name":"RunCancelledError"}', 1200)).toEqual(
        ["child"],
      );
      expect((await store().getRun(runId("parent")))?.status).toBe("queued");
      expect((await store().getJournal(runId("parent")))[0]).toMatchObject({
        status: "failed",
        error: '{"name":"RunCancelledError"}',
        finishedAt: 1200,
      });
    });

    test("retryRun requeues a cancelled run too, with its new deadline", async () => {
      await store().createRun(newRun("r", 1000, { deadlineAt: 2000 }));
      const token = await claimOne(store(), "r");
      await store().commit([{ type: "entry", runId: runId("r"), token, entry: stepEntry(0, "a") }]);
      await store().cancelRun(runId("r"), '{"name":"RunCancelledError"}', 1500);
      const run = await store().retryRun(runId("r"), 3000, null);
      expect(run).toMatchObject({
        status: "queued",
        error: null,
        deadlineAt: null,
        availableAt: 3000,
      });
      expect((await store().getJournal(runId("r"))).map((e) => e.key)).toEqual(["a"]);
      // The cancel fenced the old token; the next claim gets a newer one.
      expect(await claimOne(store(), "r", 3000)).toBeGreaterThan(token + 1);
    });

    test("retention keeps runs finished at or after the cut-off and deletes old runs' logs", async () => {
      for (const id of ["old", "edge", "new"]) await store().createRun(newRun(id));
      const claimed = await store().claimRuns("w", { workflows: ["wf"] }, 1000, 60_000, 3);
      const finishAt = { old: 1999, edge: 2000, new: 2500 } as Record<string, number>;
      await store().commit(
        claimed.map((c) => ({
          type: "complete" as const,
          runId: c.run.id,
          token: c.token,
          output: "{}",
          at: finishAt[c.run.id] ?? 0,
        })),
      );
      await store().logs.append([
        {
          runId: runId("old"),
          stepKey: null,
          attempt: null,
          level: "info",
          message: "bye",
          fields: null,
          at: 1500,
          truncated: false,
        },
      ]);
      expect(await store().deleteFinishedRuns(2000)).toBe(1);
      expect(await store().logs.list(runId("old"))).toEqual([]);
      expect((await store().listRuns({})).map((r) => r.id).sort()).toEqual(["edge", "new"]);
      expect(await store().deleteFinishedRuns(2000)).toBe(0);
    });

    test("retention with a limit deletes at most that many runs, the oldest first, and never an active one", async () => {
      for (const id of ["a", "b", "c", "d", "active"]) await store().createRun(newRun(id));
      const claimed = await store().claimRuns("w", { workflows: ["wf"] }, 1000, 60_000, 5);
      const finishAt = { a: 1400, b: 1100, c: 1300, d: 1200 } as Record<string, number>;
      await store().commit(
        claimed
          .filter((c) => c.run.id !== "active")
          .map((c) => ({
            type: "complete" as const,
            runId: c.run.id,
            token: c.token,
            output: "{}",
            at: finishAt[c.run.id] ?? 0,
          })),
      );
      const left = async () => (await store().listRuns({})).map((r) => r.id).sort();
      expect(await store().deleteFinishedRuns(5000, 2)).toBe(2);
      expect(await left()).toEqual(["a", "active", "c"]);
      expect(await store().deleteFinishedRuns(5000, 2)).toBe(2);
      expect(await store().deleteFinishedRuns(5000, 2)).toBe(0);
      expect(await left()).toEqual(["active"]);
    });

    test("a transactional step records its outcome with the value, and nothing when fenced", async () => {
      await store().createRun(newRun("r"));
      const token = await claimOne(store(), "r");
      const entry = (position: number) =>
        stepEntry(position, `tx${position}`, { kind: "transaction", output: null });
      const ok = await store().transactionalStep(
        { runId: runId("r"), token, entry: entry(0) },
        () => 42,
        (value) => JSON.stringify({ json: value }),
      );
      expect(ok).toEqual({ ok: true, value: 42, output: '{"json":42}' });
      expect(await store().getJournal(runId("r"))).toMatchObject([
        { key: "tx0", kind: "transaction", output: '{"json":42}' },
      ]);
      // The function throws: the error propagates and nothing is recorded.
      await expect(
        store().transactionalStep(
          { runId: runId("r"), token, entry: entry(1) },
          () => {
            throw new Error("boom");
          },
          () => "{}",
        ),
      ).rejects.toThrow("boom");
      // Fenced (the token is stale): the function does not run.
      let ran = false;
      const fenced = await store().transactionalStep(
        { runId: runId("r"), token: token + 1, entry: entry(1) },
        () => {
          ran = true;
        },
        () => "{}",
      );
      expect(fenced).toEqual({ ok: false, reason: "fenced" });
      expect(ran).toBe(false);
      expect((await store().getJournal(runId("r"))).map((e) => e.key)).toEqual(["tx0"]);
    });

    test("a webhook signature is remembered until it expires; a replay is refused", async () => {
      expect(await store().rememberWebhookSignature("sig-a", 2000, 1000)).toBe(true);
      expect(await store().rememberWebhookSignature("sig-a", 2500, 1500)).toBe(false);
      expect(await store().rememberWebhookSignature("sig-b", 2000, 1500)).toBe(true);
      // Expired by `now`: forgotten, so the same key is accepted again (its own timestamp
      // check refuses it by then); and it then lives until its new expiry.
      expect(await store().rememberWebhookSignature("sig-a", 4000, 2000)).toBe(true);
      expect(await store().rememberWebhookSignature("sig-a", 4000, 3999)).toBe(false);
    });

    test("migrations are listed in order, each once", async () => {
      const applied = await store().migrations();
      expect(applied.length).toBeGreaterThan(0);
      expect(applied.map((m) => m.id)).toEqual(applied.map((_, i) => i + 1));
      for (const m of applied) {
        expect(typeof m.name).toBe("string");
        expect(m.name.length).toBeGreaterThan(0);
        expect(Number.isFinite(m.appliedAt)).toBe(true);
      }
    });

    test("serverTime, where offered, is the database's clock in ms", async () => {
      const serverTime = store().serverTime;
      if (!serverTime) return;
      const before = Date.now();
      const time = await serverTime.call(store());
      // The database may run on another host: only a sane epoch time is required.
      expect(Number.isFinite(time)).toBe(true);
      expect(Math.abs(time - before)).toBeLessThan(24 * 3_600_000);
    });

    test("subscribe, where offered, tells the subscriber when work becomes due", async () => {
      const subscribe = store().subscribe;
      if (!subscribe) return;
      let told = 0;
      let onTold = () => {};
      const unsubscribe = await subscribe.call(store(), () => {
        told++;
        onTold();
      });
      try {
        const before = told; // a (re)started listener tells once on its own
        const heard = new Promise<void>((resolve) => {
          onTold = () => {
            if (told > before) resolve();
          };
        });
        await store().createRun(newRun("r"));
        await heard; // the test's own timeout is the guard
        expect(told).toBeGreaterThan(before);
      } finally {
        await unsubscribe();
      }
    });
  });
}
