import type { WorkflowContext } from "../core/workflow.ts";
import type { RunRecord } from "../store/store.ts";

/** `ctx.scheduled`: the schedule slot (Airflow's data interval) a scheduled run was made for. */
export function scheduledSlot(
  run: Pick<RunRecord, "scheduleId" | "slotAt" | "slotEndAt">,
): WorkflowContext["scheduled"] {
  const { scheduleId, slotAt, slotEndAt } = run;
  if (scheduleId === null || slotAt === null) return undefined;
  return {
    scheduleId,
    start: new Date(slotAt),
    end: slotEndAt === null ? null : new Date(slotEndAt),
  };
}
