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
 * Resolves once the run reaches `status`. It checks the store whenever this engine reports
 * an event for the run (a status change, a step); a slow re-check covers runs moved on by
 * another process, whose events never reach this one. Rejects after `timeoutMs` of real
 * time: a guard against a hung test, not a wait.
 */
export async function waitForStatus(
  cairn: Cairn,
  runId: string,
  status: RunStatus | readonly RunStatus[],
  timeoutMs = 30_000,
): Promise<void> {
  const wanted: readonly RunStatus[] = Array.isArray(status) ? status : [status as RunStatus];
  let last: RunStatus | undefined;
  let checking = false;
  let again = false;
  return new Promise<void>((resolve, reject) => {
    const finish = (error?: Error) => {
      clearTimeout(guard);
      clearInterval(backstop);
      stop();
      if (error) reject(error);
      else resolve();
    };
    // One store read at a time; an event during a read asks for one more, so none is missed.
    const check = async (): Promise<void> => {
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      try {
        do {
          again = false;
          const run = await cairn.store.getRun(runId as never);
          last = run?.status;
          if (last && wanted.includes(last)) return finish();
        } while (again);
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      } finally {
        checking = false;
      }
    };
    // Subscribed before the first read: a change between the two still triggers a check.
    const stop = cairn.subscribe((event) => {
      if (event.type === "claim" || ("runId" in event && event.runId === runId)) void check();
      else if (event.type === "lease-expired" && event.runIds.includes(runId as never))
        void check();
    });
    const backstop = setInterval(() => void check(), 250);
    const guard = setTimeout(
      () =>
        finish(
          new Error(
            `Run "${runId}" did not reach ${wanted.join("|")} within ${timeoutMs} ms (last: ${last}).`,
          ),
        ),
      timeoutMs,
    );
    void check();
  });
}
