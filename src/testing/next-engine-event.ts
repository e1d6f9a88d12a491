import type { EngineEvent } from "../core/engine-event.ts";
import type { Cairn } from "../sdk/cairn.ts";

/**
 * Resolves with the next engine event that `match` accepts; rejects after `timeoutMs` of
 * real time (a safety net for a hung test, not a wait). Call it before the action that
 * causes the event, then await it: tests wait for the engine, never for the clock.
 * @example
 * const created = nextEngineEvent(cairn, (e) => e.type === "run" && e.reason === "created");
 * await cairn.sendEvent("order.paid", { id: 1 });
 * const event = await created;
 */
export function nextEngineEvent<E extends EngineEvent = EngineEvent>(
  cairn: Pick<Cairn, "subscribe">,
  match: ((event: EngineEvent) => event is E) | ((event: EngineEvent) => boolean),
  timeoutMs = 10_000,
): Promise<E> {
  return new Promise<E>((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`No matching engine event within ${timeoutMs} ms.`));
    }, timeoutMs);
    const stop = cairn.subscribe((event) => {
      if (!match(event)) return;
      clearTimeout(timer);
      stop();
      resolve(event as E);
    });
  });
}
