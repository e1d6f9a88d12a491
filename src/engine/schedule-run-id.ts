import { createHash } from "node:crypto";
import type { RunId } from "../core/types.ts";

/**
 * The id of a schedule's run for one slot: `sched-<schedule id>-<slot time>`, e.g.
 * `sched-etl-20261203T0600Z` (seconds appear only when the slot has some). URL- and
 * shell-safe: characters other than letters, digits, `.`, `_` and `-` become `-`, and then
 * a short hash of the real schedule id keeps two schedules from sharing run ids (cron
 * trigger schedules are named `workflow@cron@tz`, full of spaces and `*`). The same slot
 * always gets the same id, so a slot fired twice starts one run.
 */
export function scheduleRunId(scheduleId: string, slotAt: number): RunId {
  const safe = scheduleId.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "");
  const name =
    safe === scheduleId
      ? safe
      : `${safe}-${createHash("sha256").update(scheduleId).digest("hex").slice(0, 8)}`;
  return `sched-${name}-${slotTime(slotAt)}` as RunId;
}

/** `20261203T0600Z`, or `20261203T060015Z` for a slot with seconds. */
function slotTime(at: number): string {
  const iso = new Date(at).toISOString(); // 2026-12-03T06:00:15.000Z
  const date = iso.slice(0, 10).replaceAll("-", "");
  const hm = iso.slice(11, 16).replace(":", "");
  const seconds = iso.slice(17, 19);
  return `${date}T${hm}${seconds === "00" ? "" : seconds}Z`;
}
