import { Cron } from "croner";

/**
 * The slots a backfill of [from, to) creates, computed the way the server does
 * (`slotsBetween` in src/sdk/scheduler.ts: croner, 5 or 6 fields, the schedule's time zone),
 * capped at `limit`. `total` counts up to `countLimit`.
 */
export function backfillSlots(
  cron: string,
  tz: string,
  from: Date,
  to: Date,
  limit = 200,
  countLimit = 100_000,
): { slots: Date[]; total: number; capped: boolean } {
  const job = new Cron(cron, { timezone: tz, paused: true, mode: "5-or-6-parts" });
  const slots: Date[] = [];
  let total = 0;
  let slot = job.nextRun(new Date(from.getTime() - 1));
  while (slot !== null && slot.getTime() < to.getTime() && total < countLimit) {
    if (slots.length < limit) slots.push(slot);
    total++;
    slot = job.nextRun(slot);
  }
  return { slots, total, capped: total >= countLimit };
}
