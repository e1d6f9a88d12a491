import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { z } from "zod";
import type { RunId } from "../core/types.ts";
import { defineWorkflow } from "../sdk/define-workflow.ts";
import { newRun, runId } from "../store/conformance-support.ts";
import { SqliteStore } from "../store-sqlite/sqlite-store.ts";
import { TestClock } from "../testing/test-clock.ts";
import { admitPending } from "./admit-pending.ts";
import { WorkflowVersions } from "./workflow-versions.ts";

const counted = defineWorkflow(
  { name: "wf", input: z.object({ n: z.number() }) },
  async (_ctx, input: { n: number }) => input.n,
);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/**
 * A worker's engine without a worker of its own (so it leaves what it admits for a claim),
 * on a real file, with the wake-ups of its loop and its runs' ends counted.
 */
function engineWithoutSlots() {
  const dir = mkdtempSync(join(tmpdir(), "cairn-admit-"));
  const store = new SqliteStore(join(dir, "admit.db"));
  cleanups.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const woken: number[] = [];
  const finished: RunId[] = [];
  const engine = {
    store,
    clock: new TestClock(1000),
    registry: new Map([[counted.name, counted]]),
    bus: { finished: (id: RunId) => finished.push(id) },
    notify: () => woken.push(1),
    worker: undefined,
    paused: new Set<string>(),
    versions: new WorkflowVersions(),
    leaseMs: 30_000,
  };
  return {
    store,
    engine: engine as unknown as Parameters<typeof admitPending>[0],
    woken,
    finished,
  };
}

// Two workers woken by one start both read the run as pending; the one that loses the race
// must not look for a claim (a pass that finds nothing) or announce an end it did not make.
it("wakes the loop and announces failures only for what this admission did", async () => {
  const { store, engine, woken, finished } = engineWithoutSlots();
  const input = (n: unknown) => JSON.stringify({ json: { n } });
  await store.createRun(newRun("won", 1000, { admitted: false, input: input(1) }));
  await store.createRun(newRun("bad", 1000, { admitted: false, input: input("x") }));
  const pending = await store.pendingAdmission(["wf"], 10);
  expect(pending.map((r) => r.id).sort()).toEqual(["bad", "won"]);
  // Another worker admits both first.
  await store.admitRuns(
    [
      { id: runId("won"), admission: { fields: {}, delayMs: 0 } },
      { id: runId("bad"), admission: { error: '{"message":"bad input"}' } },
    ],
    1000,
  );
  await admitPending(engine, pending);
  expect({ woken, finished }).toEqual({ woken: [], finished: [] });
  // Its own admission of a new run wakes the loop to claim it, and its own failure ends one.
  await store.createRun(newRun("mine", 1000, { admitted: false, input: input(2) }));
  await store.createRun(newRun("worse", 1000, { admitted: false, input: input("y") }));
  await admitPending(engine);
  expect({ woken, finished }).toEqual({ woken: [1], finished: ["worse"] });
});
