import { deserialize, serialize } from "./serializer.ts";

/**
 * The serialized `AnyOutcome` a store records for a `ctx.waitForAny` position when one of
 * its alternatives wins: the event's or signal's serialized data, wrapped with what it was.
 */
export function serializeAnyOutcome(
  kind: "event" | "signal",
  name: string,
  data: string | null,
): string {
  return serialize(
    { kind, name, data: deserialize(data) },
    `${kind} "${name}"`,
    Number.POSITIVE_INFINITY,
  );
}
