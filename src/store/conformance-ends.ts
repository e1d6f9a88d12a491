import { expect } from "vitest";
import {
  claimOne,
  describeStoreGroup,
  newRun,
  runId,
  type StoreSuiteOptions,
} from "./conformance-support.ts";
import type { RunOutcome } from "./store.ts";

/**
 * Runs that end in another process, as a waiter hears of them: the optional members
 * `watchEnds` and `getRunAnnouncingEnd` (or the older `announceEnd`) where a store has them.
 */
export function runEndsStoreSuite(options: StoreSuiteOptions): void {
  describeStoreGroup("ends announced", options, ({ store, test }) => {
    test("getRunAnnouncingEnd, where offered, reads the run and has its end announced", async () => {
      const store_ = store();
      if (!store_.getRunAnnouncingEnd) return;
      const read = (id: string) => store_.getRunAnnouncingEnd?.(runId(id));
      expect(await read("nobody")).toEqual({ run: undefined, announced: false });
      // Created unclaimed: announced anyway. Created claimed: announced once asked.
      await store_.createRun(newRun("queued"));
      expect(await read("queued")).toMatchObject({ run: { status: "queued" }, announced: true });
      const { run: claimed } = await store_.createRun(newRun("claimed"), {
        owner: "w1",
        leaseUntil: 60_000,
      });
      expect(await read("claimed")).toMatchObject({ run: { status: "running" }, announced: true });
      await store_.commit([
        { type: "complete", runId: claimed.id, token: claimed.fencingToken, output: "1", at: 2000 },
      ]);
      expect(await read("claimed")).toMatchObject({ run: { status: "completed", output: "1" } });
    });

    test("watchEnds, where offered, tells the watcher of runs that end, and not of others", async () => {
      const watchEnds = store().watchEnds;
      if (!watchEnds) return;
      // Every notice: the ids of runs that ended, or none (the store may have missed ends).
      const notices: (readonly string[] | undefined)[] = [];
      const outcomes = new Map<string, RunOutcome>();
      let onNotice = () => {};
      const awaited = ["done", "broken", "stopped", "claimed", "local", "requested"].map(runId);
      const stop = await watchEnds.call(
        store(),
        (ids, told) => {
          for (const [id, outcome] of told ?? []) outcomes.set(id, outcome);
          notices.push(ids);
          onNotice();
        },
        () => awaited,
      );
      const toldOf = async (run: string) => {
        const from = notices.length;
        const told = () =>
          notices.slice(from).some((ids) => ids === undefined || ids.includes(run));
        if (told()) return;
        await new Promise<void>((resolve) => {
          onNotice = () => told() && resolve();
        });
      };
      try {
        for (const run of ["done", "broken", "stopped", "claimed"]) {
          await store().createRun(newRun(run, 1000, { workflow: run }));
        }
        const tokens = new Map<string, number>();
        for (const run of ["done", "broken", "claimed"]) {
          tokens.set(run, await claimOne(store(), run, 1000, run));
        }
        const endAndHear = async (run: string, end: () => Promise<unknown>) => {
          const told = toldOf(run);
          await end();
          await told; // the test's own timeout is the guard
        };
        const finish = (run: string, token: number, how: "complete" | "fail") =>
          store().commit([
            how === "complete"
              ? { type: how, runId: runId(run), token, output: "1", at: 2000 }
              : { type: how, runId: runId(run), token, error: "{}", at: 2000 },
          ]);
        await endAndHear("done", () => finish("done", tokens.get("done") ?? 0, "complete"));
        await endAndHear("broken", () => finish("broken", tokens.get("broken") ?? 0, "fail"));
        await endAndHear("stopped", () => store().cancelRun(runId("stopped"), "{}", 2000));
        // A run created claimed ends where it started; a waiter elsewhere asks for its end.
        const { run: local } = await store().createRun(newRun("local"), {
          owner: "w1",
          leaseUntil: 60_000,
        });
        const asked = await store().getRunAnnouncingEnd?.(local.id);
        if (asked) expect(asked).toMatchObject({ run: { status: "running" }, announced: true });
        else await store().announceEnd?.(local.id);
        await endAndHear("local", () => finish("local", local.fencingToken, "complete"));
        // The request alone, for a caller that reads the run its own way.
        const ended = ["done", "broken", "stopped", "local"];
        const expected: Record<string, RunOutcome> = {
          done: { status: "completed", output: "1" },
          broken: { status: "failed", error: "{}" },
          local: { status: "completed", output: "1" },
        };
        if (store().announceEnd && store().getRunAnnouncingEnd) {
          const { run: requested } = await store().createRun(newRun("requested"), {
            owner: "w1",
            leaseUntil: 60_000,
          });
          await store().announceEnd?.(requested.id);
          await endAndHear("requested", () =>
            finish("requested", requested.fencingToken, "complete"),
          );
          ended.push("requested");
          expected.requested = { status: "completed", output: "1" };
        }
        // Ids, where the store gives them, name only runs that ended.
        const named = notices.flatMap((ids) => ids ?? []);
        expect(named.filter((run) => !ended.includes(run))).toEqual([]);
        // How a run completed or failed comes with its end: its waiter needs no read. A
        // cancel says nothing (the waiter reads the run).
        expect(Object.fromEntries(outcomes)).toEqual(expected);
      } finally {
        await stop();
      }
    });
  });
}
