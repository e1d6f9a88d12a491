import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunStatus } from "../core/types.ts";
import { Cairn, type CairnOptions } from "../sdk/cairn.ts";
import { TestClock } from "./test-clock.ts";

export { nextEngineEvent } from "./next-engine-event.ts";
export { TestClock } from "./test-clock.ts";

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
  const cairn = await Cairn.open({ ...options, db, clock });
  await cairn.worker({ concurrency: options.concurrency ?? 100 });
  return {
    cairn,
    clock,
    path,
    db,
    async close() {
      await cairn.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Resolves once the run reaches `status` (polling the store every few ms, real time);
 * rejects after `timeoutMs`.
 */
export async function waitForStatus(
  cairn: Cairn,
  runId: string,
  status: RunStatus | readonly RunStatus[],
  timeoutMs = 10_000,
): Promise<void> {
  const wanted = Array.isArray(status) ? status : [status];
  const deadline = Date.now() + timeoutMs;
  let last: RunStatus | undefined;
  while (Date.now() < deadline) {
    const run = await cairn.store.getRun(runId as never);
    last = run?.status;
    if (last && wanted.includes(last)) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(
    `Run "${runId}" did not reach ${wanted.join("|")} within ${timeoutMs} ms (last: ${last}).`,
  );
}
