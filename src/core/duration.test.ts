import { describe, expect, it } from "vitest";
import { toMs } from "./duration.ts";

describe("toMs", () => {
  it("parses numbers and unit strings", () => {
    expect(toMs(250)).toBe(250);
    expect(toMs("500ms")).toBe(500);
    expect(toMs("1.5s")).toBe(1500);
    expect(toMs("10m")).toBe(600_000);
    expect(toMs("1h")).toBe(3_600_000);
    expect(toMs("30d")).toBe(2_592_000_000);
    expect(toMs("2w")).toBe(1_209_600_000);
  });

  it("names the bad value and what it was for", () => {
    expect(() => toMs("10 minutes" as never, "sleep")).toThrow(
      'Invalid sleep "10 minutes": expected a number of ms or a string like "500ms", "30s", "10m", "1h", "7d".',
    );
    expect(() => toMs(-1, "timeout")).toThrow("Invalid timeout -1");
    expect(() => toMs(Number.NaN)).toThrow(/Invalid duration NaN/);
  });
});
