import { expect } from "vitest";
import {
  claimOne,
  describeStoreGroup,
  newRun,
  runId,
  type StoreSuiteOptions,
} from "./conformance-support.ts";
import type { NewRun, ScheduleRecord, Store } from "./store.ts";

type NewSchedule = Parameters<Store["schedules"]["upsert"]>[0];

const minute = 60_000;

/**
 * Cron schedules (`store.schedules`): the records, pausing, and `fireDue` — due schedules
 * handed to the plan, at most one run per slot, `nextAt` moving on in the same transaction.
 */
export function runScheduleStoreSuite(options: StoreSuiteOptions): void {
  describeStoreGroup("schedules", options, ({ store, test }) => {
    const schedule = (id: string, extra: Partial<NewSchedule> = {}): NewSchedule => ({
      id,
      workflow: "wf",
      cron: "* * * * *",
      tz: "UTC",
      input: '{"json":{"n":1}}',
      overlap: "allow",
      catchup: "all",
      nextAt: minute,
      source: "api",
      ...extra,
    });
    /** The run of one slot, as the scheduler builds it (the id names schedule and slot). */
    const slotRun = (scheduleId: string, slotAt: number, createdAt = slotAt): NewRun =>
      newRun(`sched-${scheduleId}-${slotAt}`, createdAt, {
        schedule: { id: scheduleId, slotAt, slotEndAt: slotAt + minute },
      });
    /** A plan firing every minute slot from `nextAt` up to `now`. */
    const everySlot = (now: number) => (s: ScheduleRecord) => {
      const runs: NewRun[] = [];
      let slot = s.nextAt;
      for (; slot <= now; slot += minute) runs.push(slotRun(s.id, slot, now));
      return { runs, nextAt: slot };
    };

    test("upsert creates a schedule; get and list read it back", async () => {
      const created = await store().schedules.upsert(schedule("b"), 500);
      expect(created).toEqual({
        ...schedule("b"),
        paused: false,
        createdAt: 500,
        updatedAt: 500,
      });
      await store().schedules.upsert(
        schedule("a", { workflow: "other", paused: true, source: "trigger", input: null }),
        600,
      );
      expect(await store().schedules.get("b")).toEqual(created);
      expect(await store().schedules.get("missing")).toBeUndefined();
      const listed = await store().schedules.list();
      expect(listed.map((s) => [s.id, s.workflow, s.paused, s.source, s.input])).toEqual([
        ["a", "other", true, "trigger", null],
        ["b", "wf", false, "api", '{"json":{"n":1}}'],
      ]);
    });

    test("upsert replaces a schedule, keeping nextAt while cron and zone are unchanged", async () => {
      await store().schedules.upsert(schedule("s", { nextAt: minute }), 500);
      const kept = await store().schedules.upsert(
        schedule("s", {
          nextAt: 10 * minute,
          input: '{"json":2}',
          overlap: "skip",
          catchup: "latest",
          workflow: "wf2",
          source: "trigger",
        }),
        700,
      );
      expect(kept).toMatchObject({
        nextAt: minute, // a missed slot is not lost by re-registering the same cron
        input: '{"json":2}',
        overlap: "skip",
        catchup: "latest",
        workflow: "wf2",
        source: "trigger",
        createdAt: 500,
        updatedAt: 700,
      });
      const newCron = await store().schedules.upsert(
        schedule("s", { cron: "*/5 * * * *", nextAt: 5 * minute }),
        800,
      );
      expect(newCron).toMatchObject({ cron: "*/5 * * * *", nextAt: 5 * minute });
      const newZone = await store().schedules.upsert(
        schedule("s", { cron: "*/5 * * * *", tz: "Europe/Paris", nextAt: 15 * minute }),
        900,
      );
      expect(newZone).toMatchObject({ tz: "Europe/Paris", nextAt: 15 * minute });
    });

    test("upsert keeps the paused state unless it is given", async () => {
      await store().schedules.upsert(schedule("s", { paused: true }), 500);
      expect((await store().schedules.upsert(schedule("s"), 600)).paused).toBe(true);
      expect((await store().schedules.upsert(schedule("s", { paused: false }), 700)).paused).toBe(
        false,
      );
      expect((await store().schedules.upsert(schedule("s"), 800)).paused).toBe(false);
    });

    test("setPaused pauses and resumes, optionally moving nextAt; unknown ids throw", async () => {
      await store().schedules.upsert(schedule("s", { nextAt: minute }), 500);
      const paused = await store().schedules.setPaused("s", true, 600);
      expect(paused).toMatchObject({ paused: true, nextAt: minute, updatedAt: 600 });
      const resumed = await store().schedules.setPaused("s", false, 700, 9 * minute);
      expect(resumed).toMatchObject({ paused: false, nextAt: 9 * minute, updatedAt: 700 });
      expect(await store().schedules.get("s")).toEqual(resumed);
      await expect(store().schedules.setPaused("missing", true, 800)).rejects.toMatchObject({
        code: "NOT_FOUND",
      });
    });

    test("delete removes a schedule once", async () => {
      await store().schedules.upsert(schedule("s"), 500);
      expect(await store().schedules.delete("s")).toBe(true);
      expect(await store().schedules.delete("s")).toBe(false);
      expect(await store().schedules.get("s")).toBeUndefined();
      expect(await store().schedules.list()).toEqual([]);
    });

    test("fireDue creates the planned slot runs and moves nextAt on", async () => {
      await store().schedules.upsert(schedule("s", { nextAt: minute }), 0);
      const now = 3 * minute + 5;
      const seen: [string, number, boolean][] = [];
      const fired = await store().schedules.fireDue(now, 10, (s, active) => {
        seen.push([s.id, s.nextAt, active]);
        return everySlot(now)(s);
      });
      expect(seen).toEqual([["s", minute, false]]);
      expect(fired.schedules).toBe(1);
      expect([...fired.created].sort()).toEqual(
        ["sched-s-60000", "sched-s-120000", "sched-s-180000"].sort(),
      );
      expect(await store().schedules.get("s")).toMatchObject({
        nextAt: 4 * minute,
        updatedAt: now,
      });
      const run = await store().getRun(runId("sched-s-120000"));
      expect(run).toMatchObject({
        status: "queued",
        workflow: "wf",
        scheduleId: "s",
        slotAt: 2 * minute,
        slotEndAt: 3 * minute,
        availableAt: now,
      });
      // Nothing is due any more: the plan is not even asked.
      const again = await store().schedules.fireDue(now, 10, () => {
        throw new Error("nothing is due");
      });
      expect(again).toEqual({ schedules: 0, created: [] });
    });

    test("fireDue takes only due, unpaused schedules of the given workflows, oldest first", async () => {
      await store().schedules.upsert(schedule("late", { nextAt: 3 * minute }), 0);
      await store().schedules.upsert(schedule("early", { nextAt: minute }), 0);
      await store().schedules.upsert(schedule("middle", { nextAt: 2 * minute }), 0);
      await store().schedules.upsert(schedule("future", { nextAt: 9 * minute }), 0);
      await store().schedules.upsert(schedule("paused", { nextAt: minute, paused: true }), 0);
      await store().schedules.upsert(
        schedule("elsewhere", { nextAt: minute, workflow: "not-here" }),
        0,
      );
      const now = 3 * minute;
      const order: string[] = [];
      const plan = (s: ScheduleRecord) => {
        order.push(s.id);
        return { runs: [slotRun(s.id, s.nextAt, now)], nextAt: 100 * minute };
      };
      const first = await store().schedules.fireDue(now, 2, plan, ["wf"]);
      expect(first.schedules).toBe(2);
      expect(order).toEqual(["early", "middle"]);
      const second = await store().schedules.fireDue(now, 10, plan, ["wf"]);
      expect(second.schedules).toBe(1);
      expect(order).toEqual(["early", "middle", "late"]);
      expect(await store().schedules.get("future")).toMatchObject({ nextAt: 9 * minute });
      expect(await store().schedules.get("paused")).toMatchObject({ nextAt: minute });
      expect(await store().schedules.get("elsewhere")).toMatchObject({ nextAt: minute });
      // Without a workflow filter every due schedule fires; a resumed one fires again.
      await store().schedules.setPaused("paused", false, now);
      const rest = await store().schedules.fireDue(now, 10, plan);
      expect(rest.schedules).toBe(2);
      expect(order.slice(3).sort()).toEqual(["elsewhere", "paused"]);
    });

    test("a slot fires at most once, whatever the plan or the run id says", async () => {
      await store().schedules.upsert(schedule("s", { nextAt: minute }), 0);
      // A scheduler that planned the slot but did not move nextAt (e.g. it crashed before
      // its own write, or two schedulers planned the same slot): firing again creates nothing.
      const stuck = () => ({ runs: [slotRun("s", minute)], nextAt: minute });
      expect((await store().schedules.fireDue(minute, 10, stuck)).created).toEqual([
        "sched-s-60000",
      ]);
      expect(await store().schedules.fireDue(minute, 10, stuck)).toEqual({
        schedules: 1,
        created: [],
      });
      // Another id for the same (schedule, slot) is refused too.
      const renamed = () => ({
        runs: [{ ...slotRun("s", minute), id: runId("another-id") }],
        nextAt: 2 * minute,
      });
      expect((await store().schedules.fireDue(minute, 10, renamed)).created).toEqual([]);
      expect(await store().getRun(runId("another-id"))).toBeUndefined();
      const runs = await store().listRuns({ workflow: "wf" });
      expect(runs.map((r) => r.id)).toEqual(["sched-s-60000"]);
    });

    test("concurrent fireDue calls fire each slot once", async () => {
      for (const id of ["a", "b", "c"]) {
        await store().schedules.upsert(schedule(id, { nextAt: minute }), 0);
      }
      const now = 2 * minute;
      const results = await Promise.all(
        [1, 2, 3].map(() => store().schedules.fireDue(now, 10, everySlot(now))),
      );
      const created = results.flatMap((r) => r.created).sort();
      expect(created).toEqual(
        ["a", "b", "c"].flatMap((id) => [`sched-${id}-60000`, `sched-${id}-120000`]).sort(),
      );
      expect((await store().listRuns({ workflow: "wf" })).length).toBe(6);
      for (const s of await store().schedules.list()) expect(s.nextAt).toBe(3 * minute);
    });

    test("the plan learns whether the schedule still has an unfinished run", async () => {
      await store().schedules.upsert(schedule("s", { nextAt: minute }), 0);
      const active: boolean[] = [];
      const plan = (s: ScheduleRecord, hasActiveRun: boolean) => {
        active.push(hasActiveRun);
        return { runs: [slotRun("s", s.nextAt, s.nextAt)], nextAt: s.nextAt + minute };
      };
      await store().schedules.fireDue(minute, 10, plan);
      await store().schedules.fireDue(2 * minute, 10, plan); // the first slot's run is queued
      // Both runs finish.
      for (const id of ["sched-s-60000", "sched-s-120000"]) {
        const token = await claimOne(store(), id, 2 * minute);
        await store().commit([{ type: "complete", runId: runId(id), token, output: "{}", at: 1 }]);
      }
      await store().schedules.fireDue(3 * minute, 10, plan);
      expect(active).toEqual([false, true, false]);
    });

    test("one fireDue call fires many schedules, each with its own activity and next slot", async () => {
      const ids = Array.from({ length: 150 }, (_, i) => `many-${String(i).padStart(3, "0")}`);
      for (const id of ids) await store().schedules.upsert(schedule(id, { nextAt: minute }), 0);
      // Every third schedule still has a run of an earlier slot queued.
      const busy = ids.filter((_, i) => i % 3 === 0);
      await store().schedules.createRuns(busy.map((id) => slotRun(id, 0)));
      const seen = new Map<string, boolean>();
      const fired = await store().schedules.fireDue(minute, 1_000, (s, hasActiveRun) => {
        seen.set(s.id, hasActiveRun);
        // A next slot of its own per schedule: the bulk update must not mix them up.
        return { runs: [slotRun(s.id, minute)], nextAt: 2 * minute + ids.indexOf(s.id) };
      });
      expect(fired.schedules).toBe(ids.length);
      expect(fired.created).toHaveLength(ids.length);
      expect([...seen.keys()].sort()).toEqual(ids);
      for (const id of ids) expect(seen.get(id)).toBe(busy.includes(id));
      for (const [i, id] of ids.entries()) {
        expect((await store().schedules.get(id))?.nextAt).toBe(2 * minute + i);
      }
    });

    test("createRuns creates the given slot runs and leaves existing slots alone", async () => {
      await store().schedules.upsert(schedule("s"), 0);
      expect(await store().schedules.createRuns([])).toEqual([]);
      const first = await store().schedules.createRuns([
        slotRun("s", minute),
        slotRun("s", 2 * minute),
      ]);
      expect([...first].sort()).toEqual(["sched-s-120000", "sched-s-60000"]);
      const second = await store().schedules.createRuns([
        slotRun("s", 2 * minute),
        { ...slotRun("s", minute), id: runId("same-slot-other-id") },
        slotRun("s", 3 * minute),
      ]);
      expect(second).toEqual(["sched-s-180000"]);
      expect(await store().getRun(runId("sched-s-60000"))).toMatchObject({
        scheduleId: "s",
        slotAt: minute,
        slotEndAt: 2 * minute,
        status: "queued",
      });
      // Backfilled runs do not move the schedule.
      expect((await store().schedules.get("s"))?.nextAt).toBe(minute);
    });

    test("nextWakeAt counts the next slot of the workflows' unpaused schedules", async () => {
      expect(await store().nextWakeAt({ workflows: ["wf"] })).toBeNull();
      await store().schedules.upsert(schedule("s", { nextAt: 7 * minute }), 0);
      await store().schedules.upsert(schedule("o", { nextAt: 2 * minute, workflow: "o" }), 0);
      expect(await store().nextWakeAt({ workflows: ["wf"] })).toBe(7 * minute);
      await store().createRun(newRun("r", 5 * minute));
      expect(await store().nextWakeAt({ workflows: ["wf"] })).toBe(5 * minute);
      await store().schedules.setPaused("o", true, 0);
      expect(await store().nextWakeAt({ workflows: ["o"] })).toBeNull();
    });
  });
}
