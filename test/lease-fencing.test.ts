import { setTimeout as delay } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
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
  let stallRenewals: Promise<void> | undefined;
  let releaseRenewals = () => {};
  const stalled = defineWorkflow({ name: "stalled" }, async (ctx) => {
    await ctx.step("before", () => {
      seen.push("before");
    });
    if (!held) {
      held = true;
      // The heartbeat's renewal, due as soon as the thread is free, must not confirm the
      // lease first: it would, legitimately (nobody took the run), and the step would run.
      stallRenewals = new Promise((resolve) => {
        releaseRenewals = resolve;
      });
      // Between two steps, where the next one would start before the heartbeat could run.
      holdThread(LEASE_MS * 1.6);
    }
    await ctx.step("after", () => {
      seen.push("after");
      releaseRenewals();
    });
    return "done";
  });
  // The real clock: the lease runs out in the store only as real time passes.
  const cairn = await Cairn.open({ db: url, workflows: [stalled], leaseMs: LEASE_MS, pollMs: 50 });
  cleanup = async () => {
    releaseRenewals();
    await cairn.close();
    await remove();
  };
  cairn.subscribe((event) => {
    if (event.type !== "lease-expired") return;
    seen.push("lease-expired");
    releaseRenewals(); // the held execution is fenced: renewals may go on
  });
  const renewLeases = cairn.store.renewLeases.bind(cairn.store);
  cairn.store.renewLeases = async (...args) => {
    await stallRenewals;
    return renewLeases(...args);
  };
  await cairn.worker();
  const run = await cairn.start(stalled, {});
  // Claimed in its insert by this process's worker: the lease the thread will be held in.
  const firstToken = (await cairn.store.getRun(run.id))?.fencingToken ?? 0;
  expect(firstToken).toBeGreaterThan(0);
  await waitForStatus(cairn, run.id, "completed");
  releaseRenewals();

  expect(await run.result()).toBe("done");
  // "after" ran once, and under a later lease than the one the thread was held in: the run
  // was claimed again first, after the worker fenced itself or by a claim that overtook the
  // held execution. Without the lease check before each step it ran at once, under the
  // lapsed lease, and the run finished under its first token. "before" may have run twice:
  // its entry was still queued when the thread was held, and when the claim that took the
  // run over committed first, that entry was fenced and the step never checkpointed.
  const steps = seen.filter((s) => s !== "lease-expired");
  expect(steps.filter((s) => s === "after")).toEqual(["after"]);
  expect(steps.at(-1)).toBe("after");
  expect(steps.filter((s) => s === "before").length).toBeLessThanOrEqual(2);
  expect((await cairn.store.getRun(run.id))?.fencingToken).toBeGreaterThan(firstToken);
  // When the worker fenced itself, it said so before the step ran.
  if (seen.includes("lease-expired")) {
    expect(seen.indexOf("lease-expired")).toBeLessThan(seen.indexOf("after"));
  }
  const journal = await cairn.store.getJournal(run.id);
  expect(journal.map((e) => e.key)).toEqual(["before", "after"]);
});

/**
 * A lease the store wrote at `sentAt` that reached the worker only after a whole lease (the
 * database froze, the answer was slow): the worker must count it from when the write was
 * sent, not from its answer, and no renewal that did not carry it may extend it. Else the
 * run's first step runs under a lease another worker may already hold.
 */
describe("a lease whose write answered after a whole lease", () => {
  const setup = async (name: string) => {
    const { url, remove } = await freshTestDatabase(`lease-late-${name}`);
    const steps: string[] = [];
    const wf = defineWorkflow({ name }, async (ctx) => {
      await ctx.step("first", () => {
        steps.push("first");
      });
      return "done";
    });
    const cairn = await Cairn.open({ db: url, workflows: [wf], leaseMs: LEASE_MS, pollMs: 50 });
    cleanup = async () => {
      await cairn.close();
      await remove();
    };
    const expired: string[] = [];
    cairn.subscribe((event) => {
      if (event.type === "lease-expired") expired.push(...event.runIds);
    });
    // Renewals go on while the answer is held: none of them carries the run.
    let renewed = () => {};
    const renewLeases = cairn.store.renewLeases.bind(cairn.store);
    cairn.store.renewLeases = async (...args) => {
      const lost = await renewLeases(...args);
      renewed();
      return lost;
    };
    /** Holds a store call's answer until a lease and a half passed, and a renewal answered. */
    const late = async <T>(call: () => Promise<T>): Promise<T> => {
      const sentAt = performance.now();
      const result = await call();
      await new Promise<void>((resolve) => {
        renewed = resolve;
      });
      await delay(Math.max(0, sentAt + LEASE_MS * 1.5 - performance.now()));
      await new Promise<void>((resolve) => {
        renewed = resolve;
      });
      return result;
    };
    return { cairn, wf, steps, expired, late };
  };

  it("a claim: the run's first step waits for a new claim", async () => {
    const { cairn, wf, steps, expired, late } = await setup("late-claim");
    const run = await cairn.start(wf, {}); // no worker yet: the run waits for a claim
    const claimRuns = cairn.store.claimRuns.bind(cairn.store);
    let first = true;
    cairn.store.claimRuns = async (...args) => {
      if (!first) return claimRuns(...args);
      first = false;
      return late(() => claimRuns(...args));
    };
    await cairn.worker();
    expect(await run.result()).toBe("done");
    expect(expired).toContain(run.id);
    expect(steps).toEqual(["first"]);
    expect((await cairn.store.getRun(run.id))?.fencingToken).toBeGreaterThan(1);
  });

  it("a start that takes its run: the run's first step waits for a claim", async () => {
    const { cairn, wf, steps, expired, late } = await setup("late-start");
    // While the start's answer is held, the worker's own claims find nothing: else it could
    // take the run over (its lease lapsed in the store) and finish it first.
    let holding = false;
    const claimRuns = cairn.store.claimRuns.bind(cairn.store);
    cairn.store.claimRuns = async (...args) => (holding ? [] : claimRuns(...args));
    await cairn.worker();
    const createRun = cairn.store.createRun.bind(cairn.store);
    cairn.store.createRun = async (...args) => {
      holding = true;
      try {
        return await late(() => createRun(...args));
      } finally {
        holding = false;
      }
    };
    const run = await cairn.start(wf, {});
    expect(await run.result()).toBe("done");
    expect(expired).toContain(run.id);
    expect(steps).toEqual(["first"]);
    expect((await cairn.store.getRun(run.id))?.fencingToken).toBeGreaterThan(1);
  });
});
