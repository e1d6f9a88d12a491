import { describe, expect, it } from "vitest";
import { nameProblem } from "../core/names.ts";
import type { RunId } from "../core/types.ts";
import { childRunId } from "./child-run-id.ts";

describe("childRunId", () => {
  it("is parent/step while that fits in 256 characters", () => {
    expect(childRunId("order-1" as RunId, "ship")).toBe("order-1/ship");
    const exactly256 = childRunId("p".repeat(249) as RunId, "step#2");
    expect(exactly256).toBe(`${"p".repeat(249)}/step#2`);
    // One more, and the 239 first characters stay, with `~` and the hash: 256 in all.
    expect(childRunId("p".repeat(250) as RunId, "step#2")).toMatch(/^p{239}~[0-9a-f]{16}$/);
  });

  it("past 256 keeps its start, ends in a hash of the whole, and never halves a pair", () => {
    // The head is cut after index 238: the first emoji's high half, dropped with it.
    const parent = "p".repeat(237) as RunId;
    const id = childRunId(parent, "\ud83d\ude80".repeat(20));
    expect(id).toMatch(/^p{237}\/~[0-9a-f]{16}$/);
    expect(nameProblem(id)).toBeUndefined();
    expect(childRunId(parent, "\ud83d\ude80".repeat(20))).toBe(id);
    expect(childRunId(parent, "\ud83d\ude80".repeat(21))).not.toBe(id);
  });
});
