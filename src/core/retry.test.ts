import { describe, expect, it } from "vitest";
import { backoffDelay, resolveRetryPolicy } from "./retry.ts";

describe("retry policy", () => {
  it("layers step options over workflow options over defaults", () => {
    expect(resolveRetryPolicy(undefined)).toEqual({
      maxAttempts: 3,
      backoff: "exponential",
      initialMs: 1000,
      maxMs: 60_000,
    });
    expect(resolveRetryPolicy({ maxAttempts: 5 }, { initialInterval: "10ms" })).toMatchObject({
      maxAttempts: 5,
      initialMs: 10,
    });
  });

  it("rejects a non-positive maxAttempts", () => {
    expect(() => resolveRetryPolicy({ maxAttempts: 0 })).toThrow(/retry.maxAttempts 0/);
  });

  it("doubles exponential delays up to the cap, with jitter in the upper half", () => {
    const policy = resolveRetryPolicy({ initialInterval: "1s", maxInterval: "5s" });
    expect(backoffDelay(policy, 2, () => 0)).toBe(500);
    expect(backoffDelay(policy, 2, () => 1)).toBe(1000);
    expect(backoffDelay(policy, 3, () => 1)).toBe(2000);
    expect(backoffDelay(policy, 10, () => 1)).toBe(5000);
    const fixed = resolveRetryPolicy({ backoff: "fixed", initialInterval: "1s" });
    expect(backoffDelay(fixed, 5, () => 1)).toBe(1000);
  });
});
