import { expect } from "vitest";
import {
  describeStoreGroup,
  stepEntry as entry,
  runId as id,
  newRun,
  type StoreSuiteOptions,
} from "./conformance-support.ts";

/**
 * The contract every store adapter keeps: runs, leases and the journal, waits, cancel,
 * retry, queue stats, retention. Each adapter's test file calls this with a
 * factory for a fresh, empty store; a capability an adapter lacks is skipped with a reason.
 * The other groups (flows, schedules, outside input, operations, web UI, the server's tokens) live in the
 * `conformance-*.ts` files; `runStoreConformance` (src/testing/conformance.ts) runs them all.
 */
export function runStoreSuite(options: StoreSuiteOptions): void {
  describeStoreGroup("runs", options, ({ store, test }) => {
    test("createRun is idempotent by id", async () => {
      const first = await store().createRun(newRun("r1"));
      const second = await store().createRun({ ...newRun("r1"), input: '{"json":2}' });
      expect(first.created).toBe(true);
      expect(second.created).toBe(false);
      expect(second.run.input).toBe('{"json":1}');
      expect((await store().getRun(id("r1")))?.status).toBe("queued");
    });

    test("starts made in one turn share a commit, as createCommits counts", async () => {
      const s = store();
      // Optional (for write figures): a store that does not count has nothing to hold here.
      if (s.createCommits === undefined) return;
      const before = s.createCommits;
      const created = await Promise.all(["a", "b", "c", "d"].map((r) => s.createRun(newRun(r))));
      expect(created.every((c) => c.created)).toBe(true);
      expect(s.createCommits - before).toBe(1);
      await s.createRun(newRun("e"));
      expect(s.createCommits - before).toBe(2);
    });

    test("a run created claimed is running with token 1", async () => {
      const { run } = await store().createRun(newRun("r1"), { owner: "w1", leaseUntil: 5000 });
      expect(run).toMatchObject({
        status: "running",
        leaseOwner: "w1",
        fencingToken: 1,
        availableAt: 5000,
      });
    });

    test("claims due runs in order of availability, each once", async () => {
      await store().createRun(newRun("late", 3000));
      await store().createRun(newRun("early", 1000));
      await store().createRun(newRun("other", 1000, { workflow: "other" }));
      const claimed = await store().claimRuns("w1", { workflows: ["wf"] }, 2000, 10_000, 10);
      expect(claimed.map((c) => c.run.id)).toEqual(["early"]);
      expect(claimed[0]).toMatchObject({ token: 1, run: { status: "running", leaseOwner: "w1" } });
      expect(await store().claimRuns("w2", { workflows: ["wf"] }, 2000, 10_000, 10)).toEqual([]);
    });

    test("an expired lease is taken over with a higher token and the old owner is fenced", async () => {
      await store().createRun(newRun("r1"));
      const [a] = await store().claimRuns("w1", { workflows: ["wf"] }, 1000, 1000, 1);
      expect(await store().claimRuns("w2", { workflows: ["wf"] }, 1500, 1000, 1)).toEqual([]);
      const [b] = await store().claimRuns("w2", { workflows: ["wf"] }, 2001, 1000, 1);
      expect(b?.token).toBeGreaterThan(a?.token ?? 0);
      const [late, fresh] = await store().commit([
        { type: "entry", runId: id("r1"), token: a?.token ?? 0, entry: entry(0, "a") },
        { type: "entry", runId: id("r1"), token: b?.token ?? 0, entry: entry(0, "b") },
      ]);
      expect(late).toEqual({ ok: false, reason: "fenced", status: "running" });
      expect(fresh).toEqual({ ok: true });
      expect((await store().getJournal(id("r1"))).map((e) => e.key)).toEqual(["b"]);
      expect(
        await store().renewLeases("w1", [{ runId: id("r1"), token: a?.token ?? 0 }], 9000),
      ).toEqual(["r1"]);
      expect(
        await store().renewLeases("w2", [{ runId: id("r1"), token: b?.token ?? 0 }], 9000),
      ).toEqual([]);
      expect((await store().getRun(id("r1")))?.availableAt).toBe(9000);
    });

    test("complete records the output and ends the lease", async () => {
      await store().createRun(newRun("r1"));
      const [c] = await store().claimRuns("w1", { workflows: ["wf"] }, 1000, 1000, 1);
      const results = await store().commit([
        { type: "entry", runId: id("r1"), token: c?.token ?? 0, entry: entry(0, "a") },
        {
          type: "complete",
          runId: id("r1"),
          token: c?.token ?? 0,
          output: '{"json":"done"}',
          at: 1100,
        },
      ]);
      expect(results.every((r) => r.ok)).toBe(true);
      const run = await store().getRun(id("r1"));
      expect(run).toMatchObject({
        status: "completed",
        output: '{"json":"done"}',
        finishedAt: 1100,
        availableAt: null,
      });
      // Nothing more can be written to a finished run.
      const [after] = await store().commit([
        { type: "entry", runId: id("r1"), token: c?.token ?? 0, entry: entry(1, "b") },
      ]);
      expect(after?.ok).toBe(false);
    });

    test("getJournals reads several runs' journals at once, in position order", async () => {
      await store().createRun(newRun("r1"));
      await store().createRun(newRun("r2"));
      await store().createRun(newRun("r3"));
      const claimed = await store().claimRuns("w1", { workflows: ["wf"] }, 1000, 1000, 3);
      const token = (run: string) => claimed.find((c) => c.run.id === run)?.token ?? 0;
      await store().commit([
        { type: "entry", runId: id("r2"), token: token("r2"), entry: entry(1, "b") },
        { type: "entry", runId: id("r1"), token: token("r1"), entry: entry(0, "x") },
        { type: "entry", runId: id("r2"), token: token("r2"), entry: entry(0, "a") },
      ]);
      const journals = await store().getJournals([id("r1"), id("r2"), id("r3")]);
      expect([...journals.keys()].sort()).toEqual(["r1", "r2", "r3"]);
      expect(journals.get(id("r2"))).toEqual(await store().getJournal(id("r2")));
      expect(journals.get(id("r2"))?.map((e) => e.key)).toEqual(["a", "b"]);
      expect(journals.get(id("r1"))?.map((e) => e.key)).toEqual(["x"]);
      expect(journals.get(id("r3"))).toEqual([]);
      expect((await store().getJournals([])).size).toBe(0);
    });

    test("one recorded outcome per step key", async () => {
      await store().createRun(newRun("r1"));
      const [c] = await store().claimRuns("w1", { workflows: ["wf"] }, 1000, 1000, 1);
      const token = c?.token ?? 0;
      await store().commit([{ type: "entry", runId: id("r1"), token, entry: entry(0, "a") }]);
      await expect(
        store().commit([{ type: "entry", runId: id("r1"), token, entry: entry(1, "a") }]),
      ).rejects.toThrow();
      expect(await store().getJournal(id("r1"))).toHaveLength(1);
    });

    test("a suspended sleep wakes at its time and resolves during the claim", async () => {
      await store().createRun(newRun("r1"));
      const [c] = await store().claimRuns("w1", { workflows: ["wf"] }, 1000, 1000, 1);
      const [r] = await store().commit([
        {
          type: "suspend",
          runId: id("r1"),
          token: c?.token ?? 0,
          waits: [{ kind: "sleep", position: 0, key: "nap", wakeAt: 5000 }],
          availableAt: 5000,
          at: 1000,
        },
      ]);
      expect(r).toEqual({ ok: true, status: "waiting" });
      expect(await store().nextWakeAt({ workflows: ["wf"] })).toBe(5000);
      expect(await store().claimRuns("w1", { workflows: ["wf"] }, 4999, 1000, 1)).toEqual([]);
      const [again] = await store().claimRuns("w1", { workflows: ["wf"] }, 5000, 1000, 1);
      expect(again?.run.id).toBe("r1");
      expect((await store().getJournal(id("r1")))[0]).toMatchObject({
        key: "nap",
        status: "completed",
      });
    });

    test("an event resolves a matching wait once and wakes the run; a duplicate id does nothing", async () => {
      await store().createRun(newRun("r1"));
      const [c] = await store().claimRuns("w1", { workflows: ["wf"] }, 1000, 1000, 1);
      await store().commit([
        {
          type: "suspend",
          runId: id("r1"),
          token: c?.token ?? 0,
          waits: [
            {
              kind: "event",
              position: 0,
              key: "ok",
              event: "approved",
              match: { orderId: "o1" },
              timeoutAt: null,
            },
          ],
          availableAt: null,
          at: 1000,
        },
      ]);
      const data = (orderId: string) => JSON.stringify({ json: { orderId } });
      expect(
        (await store().sendEvent({ id: "e0", name: "approved", data: data("o2"), createdAt: 1100 }))
          .woke,
      ).toEqual([]);
      const sent = await store().sendEvent({
        id: "e1",
        name: "approved",
        data: data("o1"),
        createdAt: 1200,
      });
      expect(sent).toEqual({ accepted: true, duplicate: false, woke: ["r1"], started: [] });
      const again = await store().sendEvent({
        id: "e1",
        name: "approved",
        data: data("o1"),
        createdAt: 1300,
      });
      expect(again.duplicate).toBe(true);
      expect((await store().getRun(id("r1")))?.status).toBe("queued");
      expect((await store().getJournal(id("r1")))[0]).toMatchObject({
        status: "completed",
        finishedAt: 1200,
      });
    });

    test("an event sent before the wait is registered is found in the buffer", async () => {
      await store().createRun(newRun("r1"));
      const [c] = await store().claimRuns("w1", { workflows: ["wf"] }, 1000, 1000, 1);
      await store().sendEvent({ id: "early", name: "go", data: null, createdAt: 1001 });
      const [r] = await store().commit([
        {
          type: "suspend",
          runId: id("r1"),
          token: c?.token ?? 0,
          waits: [
            { kind: "event", position: 0, key: "go", event: "go", match: null, timeoutAt: null },
          ],
          availableAt: null,
          at: 1002,
        },
      ]);
      expect(r).toEqual({ ok: true, status: "queued" });
    });

    test("signals buffer in order and a waiting signal wakes the run", async () => {
      await store().createRun(newRun("r1"));
      await store().sendSignal(id("r1"), "s", '{"json":1}', 1000);
      await store().sendSignal(id("r1"), "s", '{"json":2}', 1001);
      const [c] = await store().claimRuns("w1", { workflows: ["wf"] }, 1000, 1000, 1);
      const token = c?.token ?? 0;
      const suspend = (position: number, key: string) =>
        store().commit([
          {
            type: "suspend",
            runId: id("r1"),
            token,
            waits: [{ kind: "signal", position, key, signal: "s", timeoutAt: null }],
            availableAt: null,
            at: 1002,
          },
        ]);
      expect((await suspend(0, "s"))[0]).toEqual({ ok: true, status: "queued" });
      const [c2] = await store().claimRuns("w1", { workflows: ["wf"] }, 1003, 1000, 1);
      expect(c2?.run.id).toBe("r1");
      const journal = await store().getJournal(id("r1"));
      expect(journal[0]?.output).toBe('{"json":1}');
    });

    test("cancel ends a run and its descendants and fences the worker", async () => {
      await store().createRun(newRun("parent"));
      const [c] = await store().claimRuns("w1", { workflows: ["wf"] }, 1000, 1000, 1);
      await store().createRun(
        newRun("child", 1000, { parentId: id("parent"), parentPosition: 0, depth: 1 }),
      );
      await store().createRun(
        newRun("grandchild", 1000, { parentId: id("child"), parentPosition: 0, depth: 2 }),
      );
      const cancelled = await store().cancelRun(
        id("parent"),
        '{"name":"RunCancelledError","message":"x"}',
        1500,
      );
      expect(cancelled.sort()).toEqual(["child", "grandchild", "parent"]);
      const [r] = await store().commit([
        { type: "entry", runId: id("parent"), token: c?.token ?? 0, entry: entry(0, "a") },
      ]);
      expect(r).toEqual({ ok: false, reason: "fenced", status: "cancelled" });
      expect(await store().cancelRun(id("parent"), "{}", 1600)).toEqual([]);
      await expect(store().cancelRun(id("missing"), "{}", 1600)).rejects.toMatchObject({
        code: "RUN_NOT_FOUND",
      });
    });

    test("a finished child resolves its parent's invoke entry and wakes the parent", async () => {
      await store().createRun(newRun("parent"));
      const [p] = await store().claimRuns("w1", { workflows: ["wf"] }, 1000, 1000, 1);
      await store().createRun(
        newRun("child", 1000, {
          parentId: id("parent"),
          parentPosition: 0,
          depth: 1,
          workflow: "kid",
        }),
      );
      await store().commit([
        {
          type: "suspend",
          runId: id("parent"),
          token: p?.token ?? 0,
          waits: [{ kind: "invoke", position: 0, key: "kid", childId: id("child") }],
          availableAt: null,
          at: 1000,
        },
      ]);
      const [k] = await store().claimRuns("w2", { workflows: ["kid"] }, 1100, 1000, 1);
      await store().commit([
        {
          type: "complete",
          runId: id("child"),
          token: k?.token ?? 0,
          output: '{"json":7}',
          at: 1200,
        },
      ]);
      expect((await store().getRun(id("parent")))?.status).toBe("queued");
      expect((await store().getJournal(id("parent")))[0]).toMatchObject({
        status: "completed",
        output: '{"json":7}',
      });
    });

    test("lists runs newest first with keyset pagination and filters", async () => {
      for (let i = 0; i < 5; i++)
        await store().createRun(newRun(`r${i}`, 1000 + i, { workflow: i % 2 ? "odd" : "even" }));
      const page1 = await store().listRuns({ limit: 2 });
      expect(page1.map((r) => r.id)).toEqual(["r4", "r3"]);
      const last = page1[1];
      const page2 = await store().listRuns({
        limit: 2,
        before: { createdAt: last?.createdAt ?? 0, id: id("r3") },
      });
      expect(page2.map((r) => r.id)).toEqual(["r2", "r1"]);
      expect((await store().listRuns({ workflow: "odd" })).map((r) => r.id)).toEqual(["r3", "r1"]);
      expect(
        (await store().listRuns({ status: "queued", createdAfter: 1003 })).map((r) => r.id),
      ).toEqual(["r4", "r3"]);
    });

    test("claims flag a run taken over from an expired lease", async () => {
      await store().createRun(newRun("r1"));
      const [first] = await store().claimRuns("w1", { workflows: ["wf"] }, 1000, 1000, 1);
      expect(first?.takeover).toBe(false);
      const [second] = await store().claimRuns("w2", { workflows: ["wf"] }, 2001, 1000, 1);
      expect(second?.takeover).toBe(true);
    });

    test("retryRun requeues a failed run, dropping only its failed entries", async () => {
      await store().createRun(newRun("r1"));
      const [c] = await store().claimRuns("w1", { workflows: ["wf"] }, 1000, 1000, 1);
      const token = c?.token ?? 0;
      await store().commit([
        { type: "entry", runId: id("r1"), token, entry: entry(0, "a") },
        {
          type: "entry",
          runId: id("r1"),
          token,
          entry: entry(1, "b", { status: "failed", error: "{}" }),
        },
        { type: "fail", runId: id("r1"), token, error: '{"name":"Error","message":"x"}', at: 1100 },
      ]);
      const run = await store().retryRun(id("r1"), 1200, 5000);
      expect(run).toMatchObject({
        status: "queued",
        error: null,
        finishedAt: null,
        availableAt: 1200,
        deadlineAt: 5000,
      });
      expect((await store().getJournal(id("r1"))).map((e) => e.key)).toEqual(["a"]);
      await expect(store().retryRun(id("r1"), 1300, null)).rejects.toMatchObject({
        code: "INVALID_STATE",
      });
      await expect(store().retryRun(id("nope"), 1300, null)).rejects.toMatchObject({
        code: "RUN_NOT_FOUND",
      });
    });

    test("queue stats count due, running and waiting runs", async () => {
      await store().createRun(newRun("due1", 1000));
      await store().createRun(newRun("due2", 1500));
      await store().createRun(newRun("later", 9000));
      await store().createRun(newRun("held", 1000, { workflow: "other" }));
      await store().claimRuns("w1", { workflows: ["other"] }, 2000, 1000, 1);
      expect(await store().queueStats(2000)).toEqual({
        due: 2,
        oldestDueAt: 1000,
        running: 1,
        waiting: 0,
      });
    });

    test("lists runs changed after a time, oldest change first", async () => {
      await store().createRun(newRun("a", 1000));
      await store().createRun(newRun("b", 2000));
      await store().claimRuns("w1", { workflows: ["wf"] }, 1500, 1000, 1); // claims "a", updated at 1500
      expect((await store().listRuns({ updatedAfter: 1200 })).map((r) => r.id)).toEqual(["a", "b"]);
      expect((await store().listRuns({ updatedAfter: 1600 })).map((r) => r.id)).toEqual(["b"]);
    });

    test("the write probe succeeds on a writable store, first and again", async () => {
      await expect(store().probeWrite(1000)).resolves.toBeUndefined();
      await expect(store().probeWrite(2000)).resolves.toBeUndefined();
    });

    test("retention deletes finished runs older than the cut-off with their journal", async () => {
      await store().createRun(newRun("old"));
      await store().createRun(newRun("running"));
      const claimed = await store().claimRuns("w1", { workflows: ["wf"] }, 1000, 1000, 2);
      const old = claimed.find((c) => c.run.id === "old");
      await store().commit([
        { type: "entry", runId: id("old"), token: old?.token ?? 0, entry: entry(0, "a") },
        { type: "complete", runId: id("old"), token: old?.token ?? 0, output: "{}", at: 2000 },
      ]);
      expect(await store().deleteFinishedRuns(3000)).toBe(1);
      expect(await store().getRun(id("old"))).toBeUndefined();
      expect(await store().getJournal(id("old"))).toEqual([]);
      expect(await store().getRun(id("running"))).toBeDefined();
    });
  });
}
