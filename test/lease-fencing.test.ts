import { afterEach, expect, it } from "vitest";
import { Cairn, defineWorkflow } from "../src/index.ts";
import { waitForStatus } from "../src/testing/index.ts";
import { freshTestDatabase } from "./support/engine.ts";

const LEASE_MS = 500;

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** Holds this thread, as a SIGSTOP or a long pause would: no timer, no heartbeat runs. */
function holdThread(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

it("a worker held past its lease starts no new step of the run; the run resumes from its checkpoint", async () => {
  const { url, remove } = await freshTestDatabase("lease-fencing");
  const seen: string[] = [];
  let held = false;
  const stalled = defineWorkflow({ name: "stalled" }, async (ctx) => {
    await ctx.step("before", () => {
      seen.push("before");
    });
    if (!held) {
      held = true;
      // Between two steps, where the next one would start before the heartbeat could run.
      holdThread(LEASE_MS * 1.6);
    }
    await ctx.step("after", () => {
      seen.push("after");
    });
    return "done";
  });
  // The real clock: the lease runs out in the store only as real time passes.
  const cairn = await Cairn.open({ db: url, workflows: [stalled], leaseMs: LEASE_MS, pollMs: 50 });
  cleanup = async () => {
    await cairn.close();
    await remove();
  };
  cairn.subscribe((event) => {
    if (event.type === "lease-expired") seen.push("lease-expired");
  });
  await cairn.worker();
  const run = await cairn.start(stalled, {});
  await waitForStatus(cairn, run.id, "completed");

  expect(await run.result()).toBe("done");
  // "after" ran once, only once the lease had lapsed and the run was claimed again. "before"
  // may have run twice: its entry was still queued when the thread was held, and when the
  // claim that took the run over commits before that entry, the entry is fenced and the step
  // was never checkpointed (on a loaded machine it does, now and then).
  const steps = seen.filter((s) => s !== "lease-expired");
  expect(steps.filter((s) => s === "after")).toEqual(["after"]);
  expect(steps.at(-1)).toBe("after");
  expect(steps.filter((s) => s === "before").length).toBeLessThanOrEqual(2);
  expect(seen.indexOf("lease-expired")).toBeGreaterThan(-1);
  expect(seen.indexOf("lease-expired")).toBeLessThan(seen.indexOf("after"));
  const journal = await cairn.store.getJournal(run.id);
  expect(journal.map((e) => e.key)).toEqual(["before", "after"]);
});
