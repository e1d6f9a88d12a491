import type { RunId } from "../core/types.ts";
import type { Workflow } from "../core/workflow.ts";
import { yieldToEventLoop } from "../core/yield-to-event-loop.ts";
import type { EventRecord } from "../store/message-store.ts";
import type { RegistryStore } from "../store/registry-store.ts";
import type { NewRun } from "../store/run-records.ts";
import { buildNewRun } from "./new-run.ts";
import { compileCondition } from "./validate-options.ts";

/**
 * The runs an event starts: one per subscribed workflow whose condition holds, with the
 * event's data as input. The run id is derived from the event id, so a redelivered event
 * (same id) starts nothing twice.
 */
export async function runsForEvent(
  store: Pick<RegistryStore, "eventTriggers">,
  event: EventRecord & { value: unknown },
  registered: (name: string) => Workflow<unknown, unknown> | undefined,
  payloadLimitBytes: number,
  onError: (error: Error) => void,
): Promise<NewRun[]> {
  const subscriptions = await store.eventTriggers(event.name);
  const runs: NewRun[] = [];
  const started = new Set<string>();
  for (const [i, { workflow: name, condition }] of subscriptions.entries()) {
    if (started.has(name)) continue;
    // Conditions and inputs cost CPU each: many subscribers are handled in turns.
    if (i > 0 && i % 50 === 0) await yieldToEventLoop();
    try {
      if (condition !== "") {
        const subject = {
          event: { id: event.id, name: event.name, data: event.value, ts: event.createdAt },
        };
        const holds = await compileCondition(condition, `trigger of "${name}"`).evaluate(subject);
        if (!holds) continue;
      }
      runs.push(
        await buildNewRun({
          id: `${name}:${event.id}` as RunId,
          name,
          // Without the code here, the run waits for a worker with it to admit it.
          workflow: registered(name),
          input: event.value,
          origin: "event",
          now: event.createdAt,
          label: `The input of "${name}" from event "${event.name}"`,
          payloadLimitBytes,
        }),
      );
      started.add(name);
    } catch (error) {
      // A bad condition or input skips that workflow; the event itself is still accepted.
      onError(error instanceof Error ? error : new Error(String(error)));
    }
  }
  return runs;
}
