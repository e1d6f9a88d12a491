import { describe, expect, it } from "vitest";
import type { RunId } from "../core/types.ts";
import { TestClock } from "../testing/test-clock.ts";
import { admissionBatch, LoopWake } from "./loop-wake.ts";

const run = (id: string) => ({ id: id as RunId, workflow: "w", input: "{}" });

describe("the claim loop's wake-ups", () => {
  it("asks for a full pass first, then for what the wake-ups since the last pass need", () => {
    const wakes = new LoopWake();
    expect(wakes.begin()).toEqual({ full: true });
    expect(wakes.woken).toBe(false);
    wakes.notify("admission", run("a"));
    wakes.notify("admission", run("b"));
    expect(wakes.woken).toBe(true);
    expect(wakes.begin()).toEqual({ full: false, noticed: [run("a"), run("b")] });
    // One admission wake-up without its run: the pass reads the pending runs.
    wakes.notify("admission", run("c"));
    wakes.notify("admission");
    expect(wakes.begin()).toEqual({ full: false });
    wakes.notify("admission", run("d"));
    wakes.notify();
    expect(wakes.begin()).toEqual({ full: true });
    expect(wakes.woken).toBe(false);
    wakes.notify("admission", run("e"));
    expect(wakes.begin()).toEqual({ full: false, noticed: [run("e")] });
    // A pass with no wake-up before it (the last claim filled every slot, more may be due).
    expect(wakes.begin()).toEqual({ full: true });
  });

  it("holds at most a batch of noticed runs: past it, the admissions pass reads them", () => {
    const wakes = new LoopWake();
    wakes.begin();
    for (let i = 0; i < admissionBatch; i++) wakes.notify("admission", run(`r${i}`));
    expect(wakes.begin().noticed).toHaveLength(admissionBatch);
    for (let i = 0; i <= admissionBatch; i++) wakes.notify("admission", run(`r${i}`));
    expect(wakes.begin()).toEqual({ full: false });
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
    expect(wakes.begin().full).toBe(false);
    woke = false;
    const second = wakes.idle(clock).then(() => (woke = true));
    clock.set(999);
    await Promise.resolve();
    expect(woke).toBe(false);
    clock.set(1_000);
    await second;
    expect(wakes.begin().full).toBe(true);
  });

  it("returns at once from a wait when a wake-up came during the pass", async () => {
    const clock = new TestClock(0);
    const wakes = new LoopWake();
    wakes.begin();
    wakes.notify();
    await wakes.idle(clock, 60_000); // would hang the test if it waited
    expect(wakes.begin().full).toBe(true);
  });
});
