import { describe, expect, it } from "vitest";
import { NonRetryableError, PayloadTooLargeError, SerializationError } from "./errors.ts";
import { matchesEvent } from "./events.ts";
import { deserialize, deserializeError, serialize, serializeError } from "./serializer.ts";

describe("serializer", () => {
  it("round-trips the documented types", () => {
    const value = { d: new Date(5), b: 10n, m: new Map([[1, "a"]]), s: new Set([1]), u: undefined };
    expect(deserialize(serialize(value, "v", 1e6))).toEqual(value);
    expect(deserialize(serialize(undefined, "v", 1e6))).toBeUndefined();
  });

  it("refuses functions, symbols and cycles with a SerializationError", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => serialize({ f() {} }, "The output", 1e6)).toThrow(SerializationError);
    expect(() => serialize(Symbol("x"), "The output", 1e6)).toThrow(/a symbol is not data/);
    expect(() => serialize(cyclic, "The output", 1e6)).toThrow(/circular reference/);
    // The same object twice (not a cycle) is fine.
    const shared = { a: 1 };
    expect(() => serialize({ x: shared, y: shared }, "v", 1e6)).not.toThrow();
  });

  it("enforces the byte limit on both sides of the threshold", () => {
    const text = serialize("x".repeat(100), "v", 1e6);
    const bytes = Buffer.byteLength(text);
    expect(() => serialize("x".repeat(100), "v", bytes)).not.toThrow();
    expect(() => serialize("x".repeat(100), "v", bytes - 1)).toThrow(PayloadTooLargeError);
    // Multi-byte characters are counted in bytes.
    expect(() => serialize("é".repeat(100), "v", 150)).toThrow(PayloadTooLargeError);
  });

  it("rebuilds errors with their class, message and stack", () => {
    const original = new NonRetryableError("declined");
    const copy = deserializeError(serializeError(original));
    expect(copy).toBeInstanceOf(NonRetryableError);
    expect(copy.message).toBe("declined");
    expect(copy.stack).toBe(original.stack);
    const plain = deserializeError(serializeError(new RangeError("r")));
    expect(plain.name).toBe("RangeError");
  });

  it("caps huge error messages", () => {
    const copy = deserializeError(serializeError(new Error("x".repeat(1_000_000))));
    expect(copy.message.length).toBe(64 * 1024);
  });
});

describe("matchesEvent", () => {
  it("requires every match field to equal the data's", () => {
    expect(matchesEvent({ a: 1, b: 2 }, { a: 1 })).toBe(true);
    expect(matchesEvent({ a: 1 }, { a: 2 })).toBe(false);
    expect(matchesEvent({ a: { x: [1] } }, { a: { x: [1] } })).toBe(true);
    expect(matchesEvent(null, { a: 1 })).toBe(false);
    expect(matchesEvent("anything", null)).toBe(true);
  });
});
