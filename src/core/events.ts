import { deserialize, serialize } from "./serializer.ts";

/** What `ctx.waitForEvent` returns for a matching event. */
export interface ReceivedEvent<T = unknown> {
  id: string;
  name: string;
  data: T;
  /** When the engine accepted the event, ms since the epoch. */
  ts: number;
}

/** True when every field of `match` equals the same field of the event's data. */
export function matchesEvent(data: unknown, match: Record<string, unknown> | null): boolean {
  if (!match) return true;
  if (data === null || typeof data !== "object") return false;
  const record = data as Record<string, unknown>;
  for (const [field, expected] of Object.entries(match)) {
    if (!deepEqual(record[field], expected)) return false;
  }
  return true;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  const keysA = Object.keys(a);
  if (keysA.length !== Object.keys(b).length) return false;
  return keysA.every((k) =>
    deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/** The serialized `ReceivedEvent` recorded in the journal of the run the event resumed. */
export function serializeReceivedEvent(event: {
  id: string;
  name: string;
  data: string | null;
  createdAt: number;
}): string {
  const received: ReceivedEvent = {
    id: event.id,
    name: event.name,
    data: deserialize(event.data),
    ts: event.createdAt,
  };
  return serialize(received, `event "${event.name}"`, Number.POSITIVE_INFINITY);
}
