import { expect } from "vitest";
import {
  claimOne,
  describeStoreGroup,
  newRun,
  runId,
  type StoreSuiteOptions,
  stepEntry,
} from "./conformance-support.ts";

/**
 * `ctx.continueAsNew` (the `continue` journal op): the run completes and its successor is
 * created in the same transaction, linked both ways; a child's chain resolves its parent
 * once, with the last run's outcome.
 */
export function runContinueStoreSuite(options: StoreSuiteOptions): void {
  describeStoreGroup("continue-as-new", options, ({ store, test }) => {
    const continueOp = (id: string, token: number, successor: string, at = 2000) => ({
      type: "continue" as const,
      runId: runId(id),
      token,
      successor: newRun(successor, at, { workflow: id.split("~")[0] as string, priority: 2 }),
      at,
    });

    test("a continue op completes the run and creates its successor, linked both ways", async () => {
      await store().createRun(newRun("loop", 1000, { workflow: "loop" }));
      await store().tags.set(runId("loop"), { customer: "c1" });
      const token = await claimOne(store(), "loop", 1000, "loop");
      const results = await store().commit([
        { type: "entry", runId: runId("loop"), token, entry: stepEntry(0, "tick") },
        continueOp("loop", token, "loop~2"),
      ]);
      expect(results).toEqual([{ ok: true }, { ok: true, status: "completed" }]);
      expect(await store().getRun(runId("loop"))).toMatchObject({
        status: "completed",
        output: null,
        finishedAt: 2000,
        leaseOwner: null,
        continuedFrom: null,
        continuedTo: "loop~2",
      });
      expect(await store().getJournal(runId("loop"))).toMatchObject([{ key: "tick" }]);
      expect(await store().getRun(runId("loop~2"))).toMatchObject({
        status: "queued",
        priority: 2,
        continuedFrom: "loop",
        continuedTo: null,
      });
      expect(await store().tags.get([runId("loop~2")])).toEqual(
        new Map([[runId("loop~2"), { customer: "c1" }]]),
      );
      // The successor is claimable like any new run.
      expect(await claimOne(store(), "loop~2", 2000, "loop")).toBeGreaterThan(0);
    });

    test("a continue op with a stale token is fenced and creates nothing", async () => {
      await store().createRun(newRun("stale", 1000, { workflow: "stale" }));
      const token = await claimOne(store(), "stale", 1000, "stale");
      const [fenced] = await store().commit([continueOp("stale", token + 1, "stale~2")]);
      expect(fenced).toEqual({ ok: false, reason: "fenced", status: "running" });
      expect(await store().getRun(runId("stale~2"))).toBeUndefined();
      expect((await store().getRun(runId("stale")))?.continuedTo).toBeNull();
    });

    test("a child's chain resolves its parent once, with the last run's output", async () => {
      // p waits for its child c; c continues as c~2 (which keeps the parent link).
      await store().createRun(newRun("p", 1000, { workflow: "p" }));
      const parentToken = await claimOne(store(), "p", 1000, "p");
      const child = { parentId: runId("p"), parentPosition: 0, depth: 1, workflow: "c" };
      await store().createRun(newRun("c", 1000, child));
      await store().commit([
        {
          type: "suspend",
          runId: runId("p"),
          token: parentToken,
          waits: [{ kind: "invoke", position: 0, key: "c", childId: runId("c") }],
          availableAt: null,
          at: 1000,
        },
      ]);
      const childToken = await claimOne(store(), "c", 1000, "c");
      await store().commit([
        {
          ...continueOp("c", childToken, "c~2"),
          successor: newRun("c~2", 2000, { ...child }),
        },
      ]);
      expect((await store().getRun(runId("p")))?.status).toBe("waiting");
      expect((await store().getJournal(runId("p")))[0]?.status).toBe("waiting");
      const lastToken = await claimOne(store(), "c~2", 2000, "c");
      await store().commit([
        { type: "complete", runId: runId("c~2"), token: lastToken, output: '{"json":9}', at: 3000 },
      ]);
      expect((await store().getRun(runId("p")))?.status).toBe("queued");
      expect((await store().getJournal(runId("p")))[0]).toMatchObject({
        status: "completed",
        output: '{"json":9}',
      });

      // A parent that suspends on the chain's first run after the chain ended is resolved
      // at once, with the last run's output.
      await store().createRun(newRun("late", 1000, { workflow: "late" }));
      const lateToken = await claimOne(store(), "late", 3000, "late");
      const [late] = await store().commit([
        {
          type: "suspend",
          runId: runId("late"),
          token: lateToken,
          waits: [{ kind: "invoke", position: 0, key: "c", childId: runId("c") }],
          availableAt: null,
          at: 3000,
        },
      ]);
      expect(late).toEqual({ ok: true, status: "queued" });
      expect((await store().getJournal(runId("late")))[0]?.output).toBe('{"json":9}');
    });
  });
}
