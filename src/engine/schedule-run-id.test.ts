import { describe, expect, it } from "vitest";
import { scheduleRunId } from "./schedule-run-id.ts";

describe("schedule run ids", () => {
  it("are URL-safe, name the slot, and keep distinct schedules apart", () => {
    const slot = Date.UTC(2026, 11, 3, 6, 0);
    expect(scheduleRunId("etl", slot)).toBe("sched-etl-20261203T0600Z");
    expect(scheduleRunId("etl", slot + 15_000)).toBe("sched-etl-20261203T060015Z");
    const trigger = scheduleRunId("report@0 6 * * *@Europe/Paris", slot);
    expect(trigger).toMatch(/^sched-report-0-6-Europe-Paris-[0-9a-f]{8}-20261203T0600Z$/);
    expect(encodeURIComponent(trigger)).toBe(trigger);
    expect(scheduleRunId("a b", slot)).not.toBe(scheduleRunId("a-b", slot));
    expect(scheduleRunId("a b", slot)).toBe(scheduleRunId("a b", slot));
  });
});
