import { afterEach, describe, expect, it } from "vitest";
import { Cairn, type Duration, defineWorkflow } from "../src/index.ts";
import { type TestCairn, waitForEngine, waitForStatus } from "../src/testing/index.ts";
import { claimPass, probeWorkflow } from "./support/claim-pass.ts";
import { testCairn } from "./support/engine.ts";

let t: TestCairn | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Waits, on engine events, until `cairn` has runs of `scheduleId` for exactly `count` slots. */
async function slotsFired(cairn: Cairn, scheduleId: string, count: number): Promise<void> {
  await waitForEngine(
    cairn,
    async () => (await runsOf(cairn, scheduleId)).length >= count,
    `${count} runs of schedule "${scheduleId}"`,
  );
}

/**
 * Moves the test clock `steps` times by `step`, each time waiting (on engine events) until the engine
 * caught up with it: the schedule has handled every slot up to now, and each of the
 * workflow's runs has finished or waits for a later time. A loaded machine then changes how
 * long a test takes, never what it sees.
 */
async function advanceSettled(
  t: TestCairn,
  schedule: string,
  workflow: string,
  step: Duration,
  steps: number,
): Promise<void> {
  for (let i = 0; i < steps; i++) {
    t.clock.advance(step);
    const now = t.clock.now();
    await waitForEngine(
      t.cairn,
      async () => {
        const handled = (await t.cairn.schedules.get(schedule)).nextAt.getTime() > now;
        const runs = await t.cairn.listRuns({ workflow });
        const idle = runs.every(
          (r) =>
            ["completed", "failed", "cancelled"].includes(r.status) ||
            (r.status === "waiting" && (r.availableAt ?? 0) > now),
        );
        return handled && idle;
      },
      `schedule "${schedule}" caught up with ${new Date(now).toISOString()}`,
    );
  }
}
const start = Date.UTC(2030, 0, 1, 0, 0, 0);

type Interval = { scheduleId: string; start: string; end: string | null } | null;

const report = defineWorkflow(
  { name: "report" },
  async (ctx, input: { kind: string } | undefined) => {
    const s = ctx.scheduled;
    const interval: Interval = s
      ? {
          scheduleId: s.scheduleId,
          start: s.start.toISOString(),
          end: s.end?.toISOString() ?? null,
        }
      : null;
    return ctx.step("build", () => ({ interval, kind: input?.kind ?? null }));
  },
);

async function runsOf(cairn: Cairn, scheduleId: string) {
  const runs = await cairn.listRuns({ workflow: "report", limit: 1000 });
  return runs
    .filter((r) => r.scheduleId === scheduleId)
    .map((r) => new Date(r.slotAt ?? 0).toISOString())
    .sort();
}

describe("schedules", () => {
  it("fires each slot once with its logical interval", async () => {
    t = await testCairn({ workflows: [report], start });
    const schedule = await t.cairn.schedules.create({
      id: "hourly",
      workflow: "report",
      cron: "0 * * * *",
      input: { kind: "hourly" },
    });
    expect(schedule.nextAt.toISOString()).toBe("2030-01-01T01:00:00.000Z");
    t.clock.advance("1h");
    await slotsFired(t.cairn, "hourly", 1);
    const run = t.cairn.handle("sched-hourly-20300101T0100Z");
    expect(await run.result()).toEqual({
      interval: {
        scheduleId: "hourly",
        start: "2030-01-01T01:00:00.000Z",
        end: "2030-01-01T02:00:00.000Z",
      },
      kind: "hourly",
    });
    t.clock.advance("1h");
    await slotsFired(t.cairn, "hourly", 2);
    expect(await runsOf(t.cairn, "hourly")).toEqual([
      "2030-01-01T01:00:00.000Z",
      "2030-01-01T02:00:00.000Z",
    ]);
  });

  it("registers a workflow's cron trigger and keeps its place across restarts", async () => {
    const nightly = defineWorkflow(
      { name: "nightly", triggers: [{ cron: "0 2 * * *", tz: "Europe/Paris" }] },
      async () => "done",
    );
    t = await testCairn({ workflows: [nightly], start });
    const [schedule] = await t.cairn.schedules.list();
    expect(schedule).toMatchObject({
      id: "nightly@0 2 * * *@Europe/Paris",
      source: "trigger",
      overlap: "skip",
    });
    // 02:00 in Paris is 01:00 UTC in winter.
    expect(schedule?.nextAt.toISOString()).toBe("2030-01-01T01:00:00.000Z");
    expect(
      (await t.cairn.schedules.preview(schedule?.id ?? "", 2)).map((d) => d.toISOString()),
    ).toEqual(["2030-01-01T01:00:00.000Z", "2030-01-02T01:00:00.000Z"]);
  });

  // Every five minutes; the engine is down from 00:00 to 00:12, so 00:05 and 00:10 are missed
  // (the latest two minutes late, past the one-minute grace of "none").
  for (const [catchup, expected] of [
    ["none", []],
    ["latest", ["2030-01-01T00:10:00.000Z"]],
    ["all", ["2030-01-01T00:05:00.000Z", "2030-01-01T00:10:00.000Z"]],
  ] as const) {
    it(`after downtime, catch-up "${catchup}" handles the missed slots`, async () => {
      t = await testCairn({ workflows: [report], start });
      await t.cairn.schedules.create({
        id: "five",
        workflow: "report",
        cron: "*/5 * * * *",
        catchup,
        overlap: "allow",
      });
      const { db, clock } = t;
      // Downtime: no scheduler runs while the slots pass (the clock moves with no engine open).
      await t.cairn.close();
      clock.advance("12m");
      const again = await Cairn.open({ db, workflows: [report], clock });
      await again.worker();
      // Catching up moves the schedule to its next slot once the missed ones are handled.
      await waitForEngine(
        again,
        async () => (await again.schedules.get("five")).nextAt.getTime() > clock.now(),
        'schedule "five" catching up',
      );
      expect(await runsOf(again, "five")).toEqual([...expected]);
      expect((await again.schedules.get("five")).nextAt.toISOString()).toBe(
        "2030-01-01T00:15:00.000Z",
      );
      await again.close();
    });
  }

  it('overlap "skip" fires nothing while the previous run is still active', async () => {
    const slow = defineWorkflow({ name: "slow-report" }, async (ctx) => {
      await ctx.sleep("long", "150s");
      return "ok";
    });
    t = await testCairn({ workflows: [slow], start });
    await t.cairn.schedules.create({
      id: "s",
      workflow: "slow-report",
      cron: "* * * * *",
      overlap: "skip",
    });
    // Ten seconds at a time, so the sleep ends (00:03:30) before the 00:04 slot comes.
    await advanceSettled(t, "s", "slow-report", "10s", 24);
    const runs = (await t.cairn.listRuns({ workflow: "slow-report" })).map((r) =>
      new Date(r.slotAt ?? 0).toISOString(),
    );
    // 00:01 runs until 00:03:30; 00:02 and 00:03 are skipped; 00:04 fires.
    expect(runs.sort()).toEqual(["2030-01-01T00:01:00.000Z", "2030-01-01T00:04:00.000Z"]);
  });

  it('overlap "queue" creates every slot but runs them one at a time', async () => {
    const slow = defineWorkflow({ name: "queued-report" }, async (ctx) => {
      await ctx.sleep("long", "150s");
      return "ok";
    });
    t = await testCairn({ workflows: [slow], start });
    await t.cairn.schedules.create({
      id: "q",
      workflow: "queued-report",
      cron: "* * * * *",
      overlap: "queue",
    });
    await advanceSettled(t, "q", "queued-report", "1m", 3);
    const runs = await t.cairn.listRuns({ workflow: "queued-report" });
    expect(runs).toHaveLength(3);
    // The first sleeps (no slot held), so the queue moves on: each run reaches its sleep in turn.
    expect(runs.every((r) => r.concurrencyKey === "schedule:q" && r.concurrencyLimit === 1)).toBe(
      true,
    );
  });

  it("backfills a month of daily slots exactly once", async () => {
    t = await testCairn({ workflows: [report], start });
    await t.cairn.schedules.create({
      id: "daily",
      workflow: "report",
      cron: "0 0 * * *",
      paused: true,
    });
    const range = { from: new Date("2029-11-01T00:00:00Z"), to: new Date("2029-12-01T00:00:00Z") };
    const first = await t.cairn.schedules.backfill("daily", range);
    expect(first.slots).toBe(30);
    expect(first.created).toHaveLength(30);
    expect(first.created[0]).toBe("sched-daily-20291101T0000Z");
    expect((await t.cairn.schedules.backfill("daily", range)).created).toEqual([]);
    const last = await t.cairn.handle("sched-daily-20291130T0000Z").result();
    expect(last).toMatchObject({
      interval: { start: "2029-11-30T00:00:00.000Z", end: "2029-12-01T00:00:00.000Z" },
    });
  });

  it("pauses and resumes a schedule", async () => {
    t = await testCairn({ workflows: [report, probeWorkflow], start });
    await t.cairn.schedules.create({
      id: "p",
      workflow: "report",
      cron: "* * * * *",
      catchup: "none",
    });
    await t.cairn.schedules.pause("p");
    t.clock.advance("5m");
    await claimPass(t.cairn); // the worker's loop fires due schedules, then claims
    expect(await runsOf(t.cairn, "p")).toEqual([]);
    await t.cairn.schedules.resume("p");
    // Catch-up "none": the slots missed while paused are skipped; the current one, due at
    // the resume, fires. (A pass before the clock moves on: resuming wakes the worker, so
    // advancing the clock right away raced that pass for which slot was current.)
    await claimPass(t.cairn);
    await slotsFired(t.cairn, "p", 1);
    expect(await runsOf(t.cairn, "p")).toEqual(["2030-01-01T00:05:00.000Z"]);
  });

  it("rejects a bad cron, a bad zone and an unknown workflow with clear errors", async () => {
    t = await testCairn({ workflows: [report], start });
    await expect(
      t.cairn.schedules.create({ workflow: "report", cron: "61 * * * *", id: "x" }),
    ).rejects.toThrow(/schedule "x": invalid cron "61 \* \* \* \*"/);
    await expect(
      t.cairn.schedules.create({
        workflow: "report",
        cron: "* * * * *",
        tz: "Mars/Olympus",
        id: "y",
      }),
    ).rejects.toThrow(/unknown time zone "Mars\/Olympus"/);
    await expect(
      t.cairn.schedules.create({ workflow: "nope", cron: "* * * * *" }),
    ).rejects.toMatchObject({
      code: "WORKFLOW_NOT_FOUND",
    });
    await expect(t.cairn.schedules.get("missing")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("daylight saving time", () => {
  it("spring forward: a slot inside the skipped hour fires once, when the gap ends", async () => {
    t = await testCairn({ workflows: [report], start: Date.UTC(2030, 2, 30) });
    const slots = await t.cairn.schedules.preview({ cron: "30 2 * * *", tz: "Europe/Paris" }, 3);
    // 2030-03-31 02:30 does not exist in Paris (02:00 → 03:00): it fires at 03:00 CEST.
    expect(slots.map((d) => d.toISOString())).toEqual([
      "2030-03-30T01:30:00.000Z",
      "2030-03-31T01:00:00.000Z",
      "2030-04-01T00:30:00.000Z",
    ]);
  });

  it("fall back: a slot inside the repeated hour fires once", async () => {
    t = await testCairn({ workflows: [report], start: Date.UTC(2030, 9, 26) });
    const slots = await t.cairn.schedules.preview({ cron: "30 2 * * *", tz: "Europe/Paris" }, 3);
    // 2030-10-27 02:30 happens twice in Paris (03:00 → 02:00); it fires on the first.
    expect(slots.map((d) => d.toISOString())).toEqual([
      "2030-10-26T00:30:00.000Z",
      "2030-10-27T00:30:00.000Z",
      "2030-10-28T01:30:00.000Z",
    ]);
  });

  it("fires the DST-day slots of a running schedule once each", async () => {
    t = await testCairn({ workflows: [report], start: Date.UTC(2030, 2, 30, 12) });
    await t.cairn.schedules.create({
      id: "dst",
      workflow: "report",
      cron: "30 2 * * *",
      tz: "Europe/Paris",
    });
    await advanceSettled(t, "dst", "report", "6h", 6);
    expect(await runsOf(t.cairn, "dst")).toEqual(["2030-03-31T01:00:00.000Z"]);
  });
});

describe("scheduled runs wait for their workflow", () => {
  it("only fires schedules of workflows this process runs", async () => {
    t = await testCairn({ workflows: [report], start });
    await t.cairn.schedules.create({ id: "r", workflow: "report", cron: "* * * * *" });
    const other = await Cairn.open({ db: t.db, workflows: [], clock: t.clock });
    await other.worker();
    t.clock.advance("1m");
    await waitForStatus(t.cairn, "sched-r-20300101T0001Z", "completed");
    await other.close();
  });
});
