import { describe, expect, it } from "vitest";
import { timeOrderedId } from "./time-ordered-id.ts";

describe("timeOrderedId", () => {
  it("is a version 7 UUID whose first 48 bits are the millisecond", () => {
    const at = Date.UTC(2026, 11, 6, 19, 30, 0, 123);
    const id = timeOrderedId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16)).toBe(at);
  });

  it("sorts by the millisecond it was made in", () => {
    const earlier = Array.from({ length: 50 }, () => timeOrderedId(1_000_000));
    const later = Array.from({ length: 50 }, () => timeOrderedId(1_000_001));
    expect([...later, ...earlier].sort()).toEqual([...earlier.sort(), ...later.sort()]);
  });

  it("differs between ids made in the same millisecond", () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => timeOrderedId(1_000_000)));
    expect(ids.size).toBe(10_000);
  });
});
