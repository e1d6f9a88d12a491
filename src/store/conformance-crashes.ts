import { expect } from "vitest";
import {
  describeStoreGroup,
  runId,
  type StoreSuiteOptions,
  stepEntry,
} from "./conformance-support.ts";
import type { Store } from "./store.ts";

const lease = 1000;

/**
 * Crash counting at the claim: a takeover that finds the journal as the previous claim left
 * it is one more worker that died without progress; the engine quarantines the run on it.
 */
export function runCrashCountStoreSuite(options: StoreSuiteOptions): void {
  describeStoreGroup("crash counting", options, ({ store, test }) => {
    /** Claims the only due run at `now` with a one-second lease. */
    const claim = async (s: Store, now: number) => {
      const [claimed] = await s.claimRuns("w", { workflows: ["wf"] }, now, lease, 1);
      if (!claimed) throw new Error(`Nothing was claimed at ${now}.`);
      return claimed;
    };
    const createRun = (s: Store) =>
      s.createRun({ id: runId("r"), workflow: "wf", input: null, createdAt: 1000 });

    test("takeovers without a new journal entry count up; a normal claim counts zero", async () => {
      await createRun(store());
      const first = await claim(store(), 1000);
      expect(first).toMatchObject({ takeover: false, crashes: 0 });
      const second = await claim(store(), 2001);
      expect(second).toMatchObject({ takeover: true, crashes: 1 });
      const third = await claim(store(), 3002);
      expect(third).toMatchObject({ takeover: true, crashes: 2 });
      expect(await claim(store(), 4003)).toMatchObject({ takeover: true, crashes: 3 });
    });

    test("a takeover after progress counts one; a release and a fresh claim count zero", async () => {
      await createRun(store());
      await claim(store(), 1000);
      await claim(store(), 2001); // one death without progress
      const progressed = await claim(store(), 3002);
      expect(progressed.crashes).toBe(2);
      const write = await store().commit([
        { type: "entry", runId: runId("r"), token: progressed.token, entry: stepEntry(0, "a") },
      ]);
      expect(write[0]?.ok).toBe(true);
      // The worker that wrote step "a" died: progress was made under its claim.
      const after = await claim(store(), 4003);
      expect(after).toMatchObject({ takeover: true, crashes: 1 });
      const [released] = await store().commit([
        { type: "release", runId: runId("r"), token: after.token, at: 4100 },
      ]);
      expect(released).toEqual({ ok: true, status: "queued" });
      expect(await claim(store(), 4100)).toMatchObject({ takeover: false, crashes: 0 });
      // Counting starts over from the journal this claim saw.
      expect(await claim(store(), 5101)).toMatchObject({ takeover: true, crashes: 1 });
    });

    test("a claim takes no more suspects than asked; fresh runs and first takeovers are none", async () => {
      for (const id of ["s1", "s2", "fresh"]) {
        await store().createRun({ id: runId(id), workflow: "wf", input: null, createdAt: 1000 });
      }
      const take = (now: number, suspects?: number) =>
        store().claimRuns("w", { workflows: ["wf"], suspects }, now, lease, 10);
      const ids = (claims: { run: { id: string } }[]) => claims.map((c) => c.run.id).sort();
      expect(ids(await take(1000, 0))).toEqual(["fresh", "s1", "s2"]);
      // First takeovers are no suspects yet; they come back with a crash counted.
      expect(ids(await take(2001, 0))).toEqual(["fresh", "s1", "s2"]);
      expect(await take(3002, 0)).toEqual([]);
      const one = await take(3002, 1);
      expect(one).toHaveLength(1);
      expect(one[0]).toMatchObject({ takeover: true, crashes: 2 });
      expect(await take(3002, 0)).toEqual([]);
      expect(await take(3002)).toHaveLength(2);
    });
  });
}
