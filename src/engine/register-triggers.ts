import type { Clock } from "../core/clock.ts";
import { serialize } from "../core/serializer.ts";
import type { Workflow } from "../core/workflow.ts";
import type { RegistryStore } from "../store/registry-store.ts";
import type { ScheduleStore } from "../store/schedule-store.ts";
import { userWorkflowNames } from "./built-in-workflows.ts";
import { firstSlotAfter } from "./scheduler.ts";

/** The parts of the engine trigger registration reads (the engine itself, without an import circle). */
export interface TriggerHost {
  store: Pick<RegistryStore, "registerWorkflows" | "setEventTriggers" | "pausedWorkflows"> &
    ScheduleStore;
  clock: Clock;
  registry: Map<string, Workflow<unknown, unknown>>;
  payloadLimitBytes: number;
  paused: Set<string>;
}

/**
 * Records the event triggers and cron schedules that the registered workflows declare,
 * so any process accepting an event starts them and any scheduler fires them.
 */
export async function registerTriggers(engine: TriggerHost): Promise<void> {
  const { store } = engine;
  const now = engine.clock.now();
  await store.registerWorkflows(userWorkflowNames(engine.registry.keys()), now);
  const existing = await store.schedules.list();
  for (const workflow of engine.registry.values()) {
    const triggers = workflow.options.triggers ?? [];
    const events = triggers.flatMap((t) =>
      "event" in t ? [{ event: t.event, condition: t.if ?? "" }] : [],
    );
    await store.setEventTriggers(workflow.name, events, now);
    const ids = new Set<string>();
    for (const t of triggers) {
      if (!("cron" in t)) continue;
      const tz = t.tz ?? "UTC";
      const id = `${workflow.name}@${t.cron}@${tz}`;
      ids.add(id);
      await store.schedules.upsert(
        {
          id,
          workflow: workflow.name,
          cron: t.cron,
          tz,
          input: serialize(t.input, `The input of schedule "${id}"`, engine.payloadLimitBytes),
          overlap: t.overlap ?? "skip",
          catchup: t.catchup ?? "latest",
          nextAt: firstSlotAfter({ cron: t.cron, tz }, now),
          source: "trigger",
        },
        now,
      );
    }
    for (const stale of existing) {
      if (stale.source === "trigger" && stale.workflow === workflow.name && !ids.has(stale.id)) {
        await store.schedules.delete(stale.id);
      }
    }
  }
  for (const name of await store.pausedWorkflows()) engine.paused.add(name);
}
