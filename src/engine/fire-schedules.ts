import type { RunId } from "../core/types.ts";
import type { ScheduleStore } from "../store/schedule-store.ts";
import type { Engine } from "./engine.ts";
import { maxCatchupRunsPerPass, maxSchedulesPerPass, planSchedule } from "./scheduler.ts";

/** The parts of the engine the scheduler duty uses. */
export type ScheduleFiringHost = Pick<Engine, "clock" | "registry" | "bus" | "notify"> & {
  store: ScheduleStore;
};

/** Fires the due schedules of this process's workflows (the worker's scheduler duty). */
export async function fireSchedules(engine: ScheduleFiringHost): Promise<void> {
  const now = engine.clock.now();
  const planned = new Map<RunId, string>();
  // Shared by the schedules of this pass, so one transaction never inserts more than this
  // many catch-up runs; a schedule left without budget keeps its place for the next pass.
  let budget = maxCatchupRunsPerPass;
  const { created } = await engine.store.schedules.fireDue(
    now,
    maxSchedulesPerPass,
    (schedule, hasActiveRun) => {
      const workflow = engine.registry.get(schedule.workflow);
      const plan = planSchedule(schedule, hasActiveRun, now, workflow, budget);
      if (schedule.catchup === "all") budget = Math.max(0, budget - plan.runs.length);
      for (const run of plan.runs) planned.set(run.id, run.workflow);
      return plan;
    },
    [...engine.registry.keys()],
  );
  for (const id of created) {
    engine.bus.emitRun(id, planned.get(id) ?? "", "queued", undefined, "created");
  }
  // A notify runs the next pass at once, so a long `all` catch-up drains chunk by chunk.
  if (created.length > 0) engine.notify();
}
