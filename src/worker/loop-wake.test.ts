import { describe, expect, it } from "vitest";
import { TestClock } from "../testing/test-clock.ts";
import { LoopWake } from "./loop-wake.ts";

describe("the claim loop's wake-ups", () => {
  it("asks for a full pass first, then for what the wake-ups since the last pass need", () => {
    const wakes = new LoopWake();
    expect(wakes.begin()).toBe("full");
    expect(wakes.woken).toBe(false);
    wakes.notify("admission");
    expect(wakes.woken).toBe(true);
    expect(wakes.begin()).toBe("admissions");
    wakes.notify("admission");
    wakes.notify();
    wakes.notify("admission");
    expect(wakes.begin()).toBe("full");
    expect(wakes.woken).toBe(false);
  });

  it("waits after an admissions-only pass until the deadline of the last full one, then asks for a full pass", async () => {
    const clock = new TestClock(0);
    const wakes = new LoopWake();
    wakes.begin();
    let woke = false;
    const first = wakes.idle(clock, 1_000).then(() => (woke = true));
    wakes.notify("admission");
    await first;
    expect(woke).toBe(true);
    expect(wakes.begin()).toBe("admissions");
    woke = false;
    const second = wakes.idle(clock).then(() => (woke = true));
    clock.set(999);
    await Promise.resolve();
    expect(woke).toBe(false);
    clock.set(1_000);
    await second;
    expect(wakes.begin()).toBe("full");
  });

  it("returns at once from a wait when a wake-up came during the pass", async () => {
    const clock = new TestClock(0);
    const wakes = new LoopWake();
    wakes.begin();
    wakes.notify();
    await wakes.idle(clock, 60_000); // would hang the test if it waited
    expect(wakes.begin()).toBe("full");
  });
});
