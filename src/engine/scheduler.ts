import type { Cron } from "croner";
import { deserialize } from "../core/serializer.ts";
import type { RunId } from "../core/types.ts";
import type { Workflow } from "../core/workflow.ts";
import type { NewRun, SchedulePlan, ScheduleRecord } from "../store/store.ts";
import { nextSlot, parseCron } from "./cron.ts";
import { runOptionsFor } from "./new-run.ts";

/** With catch-up `none`, a slot this late is treated as missed rather than fired. */
export const missedAfterMs = 60_000;
/** At most this many runs per schedule per scheduler pass; the rest fire on the next pass. */
const maxRunsPerPass = 1_000;
/** Slots looked at per pass, so a per-second schedule down for a month cannot stall the loop. */
const maxSlotsPerPass = 100_000;

const parsed = new Map<string, Cron>();
function cronOf(schedule: Pick<ScheduleRecord, "cron" | "tz">): Cron {
  const key = `${schedule.tz}\u0000${schedule.cron}`;
  let cron = parsed.get(key);
  if (!cron) {
    cron = parseCron(schedule.cron, schedule.tz);
    parsed.set(key, cron);
  }
  return cron;
}

/** The run of one slot: its id names the schedule and the slot, so each slot runs once. */
export function slotRun(
  schedule: ScheduleRecord,
  workflow: Workflow<unknown, unknown> | undefined,
  slotAt: number,
  slotEndAt: number | null,
  createdAt: number,
): NewRun {
  return {
    id: `${schedule.id}@${new Date(slotAt).toISOString()}` as RunId,
    workflow: schedule.workflow,
    input: schedule.input,
    createdAt,
    ...runOptionsFor(workflow, deserialize(schedule.input), createdAt, "schedule"),
    // Overlap "queue": a schedule's runs take turns, one at a time.
    ...(schedule.overlap === "queue"
      ? { concurrency: { key: `schedule:${schedule.id}`, limit: 1 } }
      : {}),
    schedule: { id: schedule.id, slotAt, slotEndAt },
  };
}

/**
 * Decides what a due schedule fires now. Slots from `nextAt` up to `now` are due:
 * catch-up `all` fires each, `latest` the most recent, `none` only those less than a minute
 * late. Overlap `skip` fires at most one run, and none while the previous one is active.
 */
export function planSchedule(
  schedule: ScheduleRecord,
  hasActiveRun: boolean,
  now: number,
  workflow: Workflow<unknown, unknown> | undefined,
): SchedulePlan {
  const cron = cronOf(schedule);
  const due: number[] = [];
  let slot: number | null = schedule.nextAt;
  while (slot !== null && slot <= now && due.length < maxSlotsPerPass) {
    due.push(slot);
    slot = nextSlot(cron, slot);
  }
  const after = slot ?? Number.MAX_SAFE_INTEGER;
  let fire: number[];
  switch (schedule.catchup) {
    case "all":
      fire = due;
      break;
    case "latest":
      fire = due.slice(-1);
      break;
    case "none":
      fire = due.filter((s) => now - s <= missedAfterMs);
      break;
  }
  if (schedule.overlap === "skip") fire = hasActiveRun ? [] : fire.slice(-1);
  let nextAt = after;
  if (fire.length > maxRunsPerPass) {
    // Fire the first batch now; the next pass starts at the first slot left over.
    nextAt = fire[maxRunsPerPass] as number;
    fire = fire.slice(0, maxRunsPerPass);
  }
  const endOf = (s: number) => (s === due[due.length - 1] ? slot : nextSlot(cron, s));
  return { runs: fire.map((s) => slotRun(schedule, workflow, s, endOf(s), now)), nextAt };
}

/** The slots in `[from, to)`, for backfills and previews. */
export function slotsBetween(
  schedule: Pick<ScheduleRecord, "cron" | "tz">,
  from: number,
  to: number,
  limit = 100_000,
): number[] {
  const cron = cronOf(schedule);
  const slots: number[] = [];
  let slot = nextSlot(cron, from - 1);
  while (slot !== null && slot < to && slots.length < limit) {
    slots.push(slot);
    slot = nextSlot(cron, slot);
  }
  return slots;
}

/** The next `count` fire times after `after`. */
export function previewSlots(
  schedule: Pick<ScheduleRecord, "cron" | "tz">,
  after: number,
  count: number,
): number[] {
  const cron = cronOf(schedule);
  const slots: number[] = [];
  let slot = nextSlot(cron, after);
  while (slot !== null && slots.length < count) {
    slots.push(slot);
    slot = nextSlot(cron, slot);
  }
  return slots;
}

export function firstSlotAfter(
  schedule: Pick<ScheduleRecord, "cron" | "tz">,
  after: number,
): number {
  return nextSlot(cronOf(schedule), after) ?? Number.MAX_SAFE_INTEGER;
}
