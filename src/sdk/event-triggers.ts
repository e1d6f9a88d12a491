import { serialize } from "../core/serializer.ts";
import type { RunId } from "../core/types.ts";
import type { EventRecord, NewRun, Store } from "../store/store.ts";
import type { Workflow } from "./define-workflow.ts";
import { flowControlFor } from "./flow-control.ts";
import { validateInput } from "./validate-input.ts";
import { compileCondition } from "./validate-options.ts";

/**
 * The runs an event starts: one per subscribed workflow whose condition holds, with the
 * event's data as input. The run id is derived from the event id, so a redelivered event
 * (same id) starts nothing twice.
 */
export async function runsForEvent(
  store: Store,
  event: EventRecord & { value: unknown },
  registered: (name: string) => Workflow<unknown, unknown> | undefined,
  payloadLimitBytes: number,
  onError: (error: Error) => void,
): Promise<NewRun[]> {
  const subscriptions = await store.eventTriggers(event.name);
  const runs: NewRun[] = [];
  const started = new Set<string>();
  for (const { workflow: name, condition } of subscriptions) {
    if (started.has(name)) continue;
    try {
      if (condition !== "") {
        const subject = {
          event: { id: event.id, name: event.name, data: event.value, ts: event.createdAt },
        };
        const holds = await compileCondition(condition, `trigger of "${name}"`).evaluate(subject);
        if (!holds) continue;
      }
      const workflow = registered(name);
      const input = workflow ? await validateInput(workflow, event.value) : event.value;
      runs.push({
        id: `${name}:${event.id}` as RunId,
        workflow: name,
        input: serialize(
          input,
          `The input of "${name}" from event "${event.name}"`,
          payloadLimitBytes,
        ),
        createdAt: event.createdAt,
        deadlineAt: workflow?.timeoutMs === undefined ? null : event.createdAt + workflow.timeoutMs,
        ...(workflow ? flowControlFor(workflow, input) : {}),
      });
      started.add(name);
    } catch (error) {
      // A bad condition or input skips that workflow; the event itself is still accepted.
      onError(error instanceof Error ? error : new Error(String(error)));
    }
  }
  return runs;
}
