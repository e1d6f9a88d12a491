import type { Cron } from "croner";
import { deserialize } from "../core/serializer.ts";
import type { Workflow } from "../core/workflow.ts";
import { yieldToEventLoop } from "../core/yield-to-event-loop.ts";
import type { NewRun, SchedulePlan, ScheduleRecord } from "../store/store.ts";
import { nextSlot, parseCron } from "./cron.ts";
import { runOptionsFor } from "./new-run.ts";
import { scheduleRunId } from "./schedule-run-id.ts";

/** With catch-up `none`, a slot this late is treated as missed rather than fired. */
export const missedAfterMs = 60_000;
/**
 * Catch-up `all` creates at most this many runs per scheduler pass, over all schedules
 * together; the rest fire on the following passes, each its own transaction with the event
 * loop free between them. One pass then costs about this many cron steps and inserts,
 * however long the downtime was: a few ms to tens of ms, where a thousand held the loop (and,
 * on SQLite, the write lock) for about 400 ms on a busy machine.
 */
export const maxCatchupRunsPerPass = 100;

/**
 * Due schedules one scheduler pass takes (in one transaction of a few statements, whatever
 * the number): a thousand schedules due in the same second are created together, rather
 * than in passes that wait behind the runs the previous pass created.
 */
export const maxSchedulesPerPass = 1_000;

// Parsed crons by zone and expression. Bounded: previews take any expression a client
// sends, and an unbounded cache grew with every distinct one; the oldest goes first.
const parsed = new Map<string, Cron>();
const maxParsed = 1_000;
function cronOf(schedule: Pick<ScheduleRecord, "cron" | "tz">): Cron {
  const key = `${schedule.tz}\u0000${schedule.cron}`;
  let cron = parsed.get(key);
  if (!cron) {
    cron = parseCron(schedule.cron, schedule.tz);
    if (parsed.size >= maxParsed) parsed.delete(parsed.keys().next().value as string);
    parsed.set(key, cron);
  }
  return cron;
}

/**
 * `nextSlot`, remembered per expression: the schedules of one pass mostly share a few
 * expressions and instants (now, the slot just due), and croner may scan a year of candidate
 * times for one answer (0.05–0.2 ms; a yearly cron, more). A thousand schedules due in the
 * same second then cost a few cron steps, not three thousand.
 */
const remembered = new WeakMap<Cron, Map<number, number | null>>();
const rememberedPerCron = 64;
function cachedNextSlot(cron: Cron, after: number): number | null {
  let slots = remembered.get(cron);
  if (!slots) {
    slots = new Map();
    remembered.set(cron, slots);
  }
  if (slots.has(after)) return slots.get(after) ?? null;
  const slot = nextSlot(cron, after);
  if (slots.size >= rememberedPerCron) slots.clear();
  slots.set(after, slot);
  return slot;
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
    id: scheduleRunId(schedule.id, slotAt),
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
 * catch-up `all` fires each (at most `budget` of them now, the rest on later passes),
 * `latest` the most recent only, `none` only those less than a minute late. Overlap `skip`
 * fires at most the most recent slot, and none while the previous run is still active.
 * The cost does not grow with the downtime: `latest` and `none` never walk the missed slots.
 */
export function planSchedule(
  schedule: ScheduleRecord,
  hasActiveRun: boolean,
  now: number,
  workflow: Workflow<unknown, unknown> | undefined,
  budget = maxCatchupRunsPerPass,
): SchedulePlan {
  const cron = cronOf(schedule);
  const first = schedule.nextAt;
  if (first > now) return { runs: [], nextAt: first };
  const afterNow = cachedNextSlot(cron, now) ?? Number.MAX_SAFE_INTEGER;
  const fire = (slots: number[], nextAt: number): SchedulePlan => ({
    runs: slots.map((s) => slotRun(schedule, workflow, s, endOf(cron, s), now)),
    nextAt,
  });
  if (schedule.overlap === "skip" || schedule.catchup === "latest") {
    if (hasActiveRun && schedule.overlap === "skip") return fire([], afterNow);
    if (schedule.catchup === "none") return fire(recentSlots(cron, first, now).slice(-1), afterNow);
    return fire([latestSlot(cron, first, now)], afterNow);
  }
  if (schedule.catchup === "none") return fire(recentSlots(cron, first, now), afterNow);
  const slots: number[] = [];
  let slot: number | null = first;
  while (slot !== null && slot <= now && slots.length < budget) {
    slots.push(slot);
    slot = cachedNextSlot(cron, slot);
  }
  return fire(slots, slot !== null && slot <= now ? slot : afterNow);
}

/** A slot's logical interval ends where the next slot starts (null when there is none). */
function endOf(cron: Cron, slot: number): number | null {
  return cachedNextSlot(cron, slot);
}

/**
 * The last slot in `[first, now]`, where `first` is a slot at or before `now`: a binary
 * search over the instant before it (about 40 cron steps for any downtime), because walking
 * a per-second schedule through days of missed slots would stall the event loop.
 */
function latestSlot(cron: Cron, first: number, now: number): number {
  // The common case, one slot due, costs two remembered cron steps (shared by every
  // schedule of the same expression due together) instead of a search.
  const firstSlot = cachedNextSlot(cron, first - 1);
  if (firstSlot !== null && firstSlot <= now) {
    const second = cachedNextSlot(cron, firstSlot);
    if (second === null || second > now) return firstSlot;
  }
  // Invariant: the first slot after `lo` is at or before `now`; the first after `hi` is not.
  let lo = first - 1;
  let hi = now;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const slot = nextSlot(cron, mid);
    if (slot !== null && slot <= now) lo = mid;
    else hi = mid;
  }
  return nextSlot(cron, lo) as number;
}

/** The due slots less than a minute late: at most one minute's worth, whatever the downtime. */
function recentSlots(cron: Cron, first: number, now: number): number[] {
  const slots: number[] = [];
  let slot = nextSlot(cron, Math.max(first, now - missedAfterMs) - 1);
  while (slot !== null && slot <= now) {
    slots.push(slot);
    slot = nextSlot(cron, slot);
  }
  return slots;
}

/** The longest a walk over slots holds the event loop before letting it go, in ms. */
const turnMs = 10;

/**
 * The slots in `[from, to)`, at most `limit` of them, walked in turns of about 10 ms with
 * the event loop let go between turns: a per-second range of a day is 86,400 cron steps,
 * seconds of work in a zone other than UTC. `more` says the range holds more than `limit`.
 */
export async function slotsBetween(
  schedule: Pick<ScheduleRecord, "cron" | "tz">,
  from: number,
  to: number,
  limit: number,
): Promise<{ slots: number[]; more: boolean }> {
  const cron = cronOf(schedule);
  const slots: number[] = [];
  let turnStart = performance.now();
  let slot = nextSlot(cron, from - 1);
  while (slot !== null && slot < to) {
    if (slots.length === limit) return { slots, more: true };
    slots.push(slot);
    slot = nextSlot(cron, slot);
    if (slots.length % 64 === 0 && performance.now() - turnStart > turnMs) {
      await yieldToEventLoop();
      turnStart = performance.now();
    }
  }
  return { slots, more: false };
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
