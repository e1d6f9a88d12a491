import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, json, startHarness } from "./harness.ts";

type Schedule = {
  id: string;
  workflow: string;
  paused: boolean;
  overlap: string;
  nextAt: string;
  nextFires?: string[];
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe("schedules resources", () => {
  it("creates, reads, pauses, resumes, backfills and deletes a schedule", async () => {
    const created = await h.post("/api/v1/schedules", {
      id: "nightly",
      workflow: "greet",
      cron: "0 2 * * *",
      tz: "Europe/Paris",
      input: { name: "Ada" },
      overlap: "queue",
    });
    expect(created.status).toBe(201);
    expect(await json<Schedule>(created)).toMatchObject({
      id: "nightly",
      workflow: "greet",
      overlap: "queue",
      paused: false,
    });

    const list = await json<{ schedules: Schedule[] }>(await h.fetch("/api/v1/schedules"));
    expect(list.schedules.map((s) => s.id)).toContain("nightly");

    const one = await json<Schedule>(await h.fetch("/api/v1/schedules/nightly"));
    expect(one.nextFires).toHaveLength(5);

    expect((await json<Schedule>(await h.post("/api/v1/schedules/nightly/pause", {}))).paused).toBe(
      true,
    );
    expect(
      (await json<Schedule>(await h.post("/api/v1/schedules/nightly/resume", {}))).paused,
    ).toBe(false);

    const backfill = await h.post("/api/v1/schedules/nightly/backfill", {
      from: "2030-01-01",
      to: "2030-01-04",
    });
    expect(backfill.status).toBe(200);
    expect(await json(backfill)).toMatchObject({ slots: 3 });

    // Ten years of seconds: refused whole with the cap and the count, never cut short.
    const perSecond = await h.post("/api/v1/schedules", {
      id: "per-second",
      workflow: "greet",
      cron: "* * * * * *",
      input: { name: "Ada" },
      paused: true,
    });
    expect(perSecond.status, await perSecond.clone().text()).toBe(201);
    const overCap = await h.post("/api/v1/schedules/per-second/backfill", {
      from: "2020-01-01",
      to: "2030-01-01",
    });
    expect(overCap.status).toBe(422);
    expect(await json(overCap)).toMatchObject({
      code: "LIMIT_EXCEEDED",
      detail: expect.stringMatching(/about 315,\d{3},\d{3} slots, over the cap of 100,000/),
    });
    expect(await h.cairn.listRuns({ workflow: "greet", limit: 10 })).toHaveLength(3);
    await h.fetch("/api/v1/schedules/per-second", { method: "DELETE" });

    const deleted = await h.fetch("/api/v1/schedules/nightly", { method: "DELETE" });
    expect(deleted.status).toBe(200);
    expect((await h.fetch("/api/v1/schedules/nightly")).status).toBe(404);
  });

  it("rejects a bad cron or an unknown workflow with a precise problem", async () => {
    const badCron = await h.post("/api/v1/schedules", { workflow: "greet", cron: "99 * * * *" });
    expect(badCron.status).toBe(400);
    expect((await json<{ detail: string }>(badCron)).detail).toMatch(
      /invalid cron "99 \* \* \* \*"/,
    );
    const unknown = await h.post("/api/v1/schedules", { workflow: "nope", cron: "* * * * *" });
    expect(unknown.status).toBe(404);
  });
});
