/**
 * `cairnjs/testing`: an engine on a temporary database with a clock the test moves, and
 * waits on the engine's events instead of on time.
 * @module cairnjs/testing
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunStatus } from "../core/types.ts";
import { Cairn, type CairnOptions } from "../sdk/cairn.ts";
import { TestClock } from "./test-clock.ts";
import { waitForRun } from "./wait-for-run.ts";

export { nextEngineEvent } from "./next-engine-event.ts";
export {
  type SeedResult,
  type SimFaults,
  type SimRun,
  type SimulateOptions,
  type SimulationFailure,
  type SimulationReport,
  type SimulationStats,
  simulate,
} from "./simulate.ts";
export { TestClock } from "./test-clock.ts";
export { waitForEngine, waitForRun } from "./wait-for-run.ts";

export interface TestCairn {
  cairn: Cairn;
  clock: TestClock;
  /** The temporary SQLite file (empty when `db` was given). */
  path: string;
  /** The database URL, for opening more engines on the same database. */
  db: string;
  /** Closes the engine and deletes the temporary files. */
  close(): Promise<void>;
}

/**
 * An engine on a temporary SQLite file (or on `options.db`) with a {@link TestClock} and a
 * running worker.
 * @example
 * const { cairn, clock, close } = await createTestCairn({ workflows: [reminder] });
 * const run = await cairn.start(reminder, { to: "a@b.c" });
 * await waitForStatus(cairn, run.id, "waiting");
 * clock.advance("30d");
 * expect(await run.result()).toEqual("sent");
 */
export async function createTestCairn(
  options: Omit<CairnOptions, "store" | "clock"> & {
    start?: Date | number;
    concurrency?: number;
  } = {},
): Promise<TestCairn> {
  const dir = options.db ? undefined : mkdtempSync(join(tmpdir(), "cairn-test-"));
  const path = dir ? join(dir, "cairn.db") : "";
  const db = options.db ?? `sqlite:${path}`;
  const clock = new TestClock(options.start);
  const removeDir = () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  let cairn: Cairn;
  try {
    cairn = await Cairn.open({
      // A test runner reports uncaught errors itself (and fails the test); exiting the
      // process, the production default for an error outside any step, would hide which test.
      onUncaughtError: (error, info) => {
        if (info.attributed === "none")
          console.error("cairn: uncaught error outside any step:", error);
      },
      ...options,
      db,
      clock,
    });
  } catch (error) {
    // A test of bad options gets its error, and no temporary folder is left behind.
    removeDir();
    throw error;
  }
  try {
    await cairn.worker({ concurrency: options.concurrency ?? 100 });
  } catch (error) {
    await cairn.close();
    removeDir();
    throw error;
  }
  return {
    cairn,
    clock,
    path,
    db,
    async close() {
      await cairn.close();
      removeDir();
    },
  };
}

/**
 * Resolves once the run reaches `status`, re-reading it on this engine's events for the run
 * (see {@link waitForRun}); rejects after `timeoutMs` of real time (a guard, not a wait).
 */
export async function waitForStatus(
  cairn: Cairn,
  runId: string,
  status: RunStatus | readonly RunStatus[],
  timeoutMs = 30_000,
): Promise<void> {
  const wanted: readonly RunStatus[] = Array.isArray(status) ? status : [status as RunStatus];
  let last: RunStatus | undefined;
  await waitForRun(
    cairn,
    runId,
    async () => {
      last = (await cairn.store.getRun(runId as never))?.status;
      return last !== undefined && wanted.includes(last);
    },
    () => `reaching ${wanted.join("|")} (last: ${last})`,
    timeoutMs,
  );
}
