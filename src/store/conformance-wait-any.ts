import { expect } from "vitest";
import { deserialize } from "../core/serializer.ts";
import {
  claimOne,
  describeStoreGroup,
  newRun,
  runId,
  type StoreSuiteOptions,
} from "./conformance-support.ts";
import type { Store, WaitRegistration } from "./store.ts";

/**
 * `ctx.waitForAny`: one position waiting for several events and signals. The first input
 * resolves it (recorded as `{ kind, name, data }`) and withdraws the other alternatives in
 * the same transaction; whatever comes later is left for other waits.
 */
export function runWaitAnyStoreSuite(options: StoreSuiteOptions): void {
  describeStoreGroup("waitForAny", options, ({ store, test }) => {
    const data = (value: unknown) => JSON.stringify({ json: value });
    const anyWait = (position = 0, timeoutAt: number | null = null): WaitRegistration => ({
      kind: "any",
      position,
      key: `first-${position}`,
      events: [
        { event: "paid", match: { order: 1 } },
        { event: "refused", match: null },
      ],
      signals: ["cancel", "nudge"],
      timeoutAt,
    });
    // Each run of a test has a workflow of its own (its id), so a claim takes that run.
    const create = (id: string, at = 1000) => store().createRun(newRun(id, at, { workflow: id }));
    const claim = (id: string, at = 1000) => claimOne(store(), id, at, id);
    const suspend = async (id: string, waits: WaitRegistration[], at = 1000) => {
      const token = await claim(id, at);
      const [result] = await store().commit([
        { type: "suspend", runId: runId(id), token, waits, availableAt: null, at },
      ]);
      return result;
    };
    const event = (id: string, name: string, value: unknown, createdAt: number) =>
      store().sendEvent({ id, name, data: data(value), createdAt });
    const outcome = async (s: Store, id: string, position = 0) => {
      const entry = (await s.getJournal(runId(id))).find((e) => e.position === position);
      return { status: entry?.status, value: deserialize(entry?.output ?? null) };
    };

    test("the first matching event resolves a waitForAny; a later one is not taken", async () => {
      await create("r");
      expect(await suspend("r", [anyWait()])).toEqual({ ok: true, status: "waiting" });
      // Not a match for `paid`: nothing happens.
      expect((await event("e0", "paid", { order: 2 }, 1100)).woke).toEqual([]);
      expect((await event("e1", "paid", { order: 1 }, 1200)).woke).toEqual(["r"]);
      expect(await outcome(store(), "r")).toEqual({
        status: "completed",
        value: { kind: "event", name: "paid", data: { order: 1 } },
      });
      expect((await store().getRun(runId("r")))?.status).toBe("queued");
      // The other alternatives were withdrawn: neither an event nor a signal finds them.
      expect((await event("e2", "refused", {}, 1300)).woke).toEqual([]);
      expect(await store().sendSignal(runId("r"), "cancel", data(1), 1300)).toEqual({
        woke: false,
      });
      expect((await event("e3", "paid", { order: 1 }, 1400)).woke).toEqual([]);
      expect((await outcome(store(), "r")).value).toMatchObject({ kind: "event", name: "paid" });

      // Left for the run's later waits: the buffered signal and the events it did not take.
      const token = await claim("r", 1500);
      const [later] = await store().commit([
        {
          type: "suspend",
          runId: runId("r"),
          token,
          waits: [
            { kind: "signal", position: 1, key: "cancel", signal: "cancel", timeoutAt: null },
            {
              kind: "event",
              position: 2,
              key: "paid",
              event: "paid",
              match: { order: 1 },
              timeoutAt: null,
            },
          ],
          availableAt: null,
          at: 1500,
        },
      ]);
      expect(later).toEqual({ ok: true, status: "queued" });
      expect((await outcome(store(), "r", 1)).value).toBe(1);
      // e1 was taken by the waitForAny: the plain wait gets e3.
      expect((await outcome(store(), "r", 2)).value).toMatchObject({ id: "e3" });
    });

    test("a signal resolves a waitForAny; the events stay for other runs and waits", async () => {
      await create("s");
      await create("other");
      await suspend("s", [anyWait()]);
      expect(await store().sendSignal(runId("s"), "nudge", data({ n: 7 }), 1100)).toEqual({
        woke: true,
      });
      expect(await outcome(store(), "s")).toEqual({
        status: "completed",
        value: { kind: "signal", name: "nudge", data: { n: 7 } },
      });
      // A signal without data: `data` is undefined.
      await create("bare");
      await suspend("bare", [anyWait()]);
      await store().sendSignal(runId("bare"), "cancel", null, 1100);
      expect((await outcome(store(), "bare")).value).toEqual({
        kind: "signal",
        name: "cancel",
        data: undefined,
      });
      // The matching event goes to the other run's plain wait, not to the resolved position.
      await suspend("other", [
        { kind: "event", position: 0, key: "p", event: "paid", match: null, timeoutAt: null },
      ]);
      expect((await event("e1", "paid", { order: 1 }, 1200)).woke).toEqual(["other"]);
      expect((await outcome(store(), "s")).value).toMatchObject({ kind: "signal" });
    });

    test("buffered input resolves a waitForAny when it suspends: the earliest wins", async () => {
      // A signal before the event: the signal wins, the event stays unconsumed.
      await create("a");
      await store().sendSignal(runId("a"), "cancel", data("stop"), 1100);
      await event("e1", "refused", { why: "no" }, 1200);
      expect(await suspend("a", [anyWait()], 1300)).toEqual({ ok: true, status: "queued" });
      expect((await outcome(store(), "a")).value).toEqual({
        kind: "signal",
        name: "cancel",
        data: "stop",
      });
      // The event before a signal: the event wins, the signal stays buffered.
      await create("b", 1300); // after e1
      await event("e2", "paid", { order: 1 }, 1400);
      await store().sendSignal(runId("b"), "nudge", data(1), 1500);
      expect(await suspend("b", [anyWait()], 1600)).toEqual({ ok: true, status: "queued" });
      expect((await outcome(store(), "b")).value).toEqual({
        kind: "event",
        name: "paid",
        data: { order: 1 },
      });
      const token = await claim("b", 1700);
      const [signal] = await store().commit([
        {
          type: "suspend",
          runId: runId("b"),
          token,
          waits: [{ kind: "signal", position: 1, key: "n", signal: "nudge", timeoutAt: null }],
          availableAt: null,
          at: 1700,
        },
      ]);
      expect(signal).toEqual({ ok: true, status: "queued" });
      expect((await outcome(store(), "b", 1)).value).toBe(1);
    });

    test("a waitForAny times out with null at its time, and its waits go", async () => {
      await create("t");
      const token = await claim("t");
      await store().commit([
        {
          type: "suspend",
          runId: runId("t"),
          token,
          waits: [anyWait(0, 5000)],
          availableAt: 5000,
          at: 1000,
        },
      ]);
      expect(await store().claimRuns("w1", { workflows: ["t"] }, 4999, 60_000, 1)).toEqual([]);
      const [claimed] = await store().claimRuns("w1", { workflows: ["t"] }, 5000, 60_000, 1);
      expect(claimed?.run.id).toBe("t");
      expect(await outcome(store(), "t")).toEqual({ status: "completed", value: null });
      expect((await event("e1", "paid", { order: 1 }, 5100)).woke).toEqual([]);
    });

    test("an event sent at each point of the suspension resolves the waitForAny once", async () => {
      // Before the claim, between the claim and the commit (both buffered), at the same time
      // as the commit (a store serializes them, either order must work), and after it.
      const points = ["before claim", "before commit", "with commit", "after commit"] as const;
      for (const [i, point] of points.entries()) {
        const id = `p${i}`;
        const base = (i + 1) * 10_000; // the run sees no event of an earlier round
        const send = () => event(`e${i}`, "refused", { i }, base + 1);
        await create(id, base);
        if (point === "before claim") await send();
        const token = await claim(id, base);
        if (point === "before commit") await send();
        const suspension = store().commit([
          {
            type: "suspend",
            runId: runId(id),
            token,
            waits: [anyWait()],
            availableAt: null,
            at: base + 2,
          },
        ]);
        if (point === "with commit") await send();
        const [result] = await suspension;
        if (point === "after commit") await send();
        expect(result?.ok).toBe(true);
        expect((await store().getRun(runId(id)))?.status).toBe("queued");
        expect((await outcome(store(), id)).value).toEqual({
          kind: "event",
          name: "refused",
          data: { i },
        });
        // Nothing left registered: a second event wakes nothing.
        expect((await event(`again-${i}`, "refused", { i }, base + 3)).woke).toEqual([]);
      }
    });
  });
}
