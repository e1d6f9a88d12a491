import type { RunId } from "../core/types.ts";
import type { Engine } from "./engine.ts";
import { planSchedule } from "./scheduler.ts";

/** Fires the due schedules of this process's workflows (the worker's scheduler duty). */
export async function fireSchedules(engine: Engine): Promise<void> {
  const now = engine.clock.now();
  const planned = new Map<RunId, string>();
  const { created } = await engine.store.schedules.fireDue(
    now,
    100,
    (schedule, hasActiveRun) => {
      const workflow = engine.registry.get(schedule.workflow);
      const plan = planSchedule(schedule, hasActiveRun, now, workflow);
      for (const run of plan.runs) planned.set(run.id, run.workflow);
      return plan;
    },
    [...engine.registry.keys()],
  );
  for (const id of created) {
    engine.bus.emitRun(id, planned.get(id) ?? "", "queued", undefined, "created");
  }
  if (created.length > 0) engine.notify();
}
