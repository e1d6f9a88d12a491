import type { EngineEvent } from "../core/engine-event.ts";
import type { Cairn } from "../sdk/cairn.ts";

/**
 * Resolves once `check` holds, re-running it whenever this engine reports an event that
 * `relevant` accepts (every event by default); a slow re-check covers changes made by
 * another process, whose events never reach this one. Rejects after `timeoutMs` of real
 * time: a guard against a hung test, not a wait.
 */
export function waitForEngine(
  cairn: Pick<Cairn, "subscribe">,
  check: () => Promise<boolean>,
  describe: string | (() => string),
  timeoutMs = 30_000,
  relevant: (event: EngineEvent) => boolean = () => true,
): Promise<void> {
  return waitUntil(cairn, check, describe, timeoutMs, relevant);
}

/**
 * Resolves once `check` holds for the run, re-reading it whenever this engine reports an
 * event for the run (a status change, a step, a lease expiry) or claims runs; a slow
 * re-check covers runs moved on by another process, whose events never reach this one.
 * Rejects after `timeoutMs` of real time: a guard against a hung test, not a wait.
 * @example
 * await waitForRun(cairn, run.id, async () =>
 *   (await cairn.getRun(run.id)).steps.some((s) => s.key === "b" && s.status === "waiting"),
 *   "step b waiting");
 */
export function waitForRun(
  cairn: Pick<Cairn, "subscribe">,
  runId: string,
  check: () => Promise<boolean>,
  describe: string | (() => string),
  timeoutMs = 30_000,
): Promise<void> {
  const what = () => `run "${runId}": ${typeof describe === "string" ? describe : describe()}`;
  return waitUntil(
    cairn,
    check,
    what,
    timeoutMs,
    (event) =>
      event.type === "claim" ||
      ("runId" in event && event.runId === runId) ||
      (event.type === "lease-expired" && event.runIds.includes(runId as never)),
  );
}

function waitUntil(
  cairn: Pick<Cairn, "subscribe">,
  check: () => Promise<boolean>,
  describe: string | (() => string),
  timeoutMs: number,
  relevant: (event: EngineEvent) => boolean,
): Promise<void> {
  let checking = false;
  let again = false;
  let settled = false;
  return new Promise<void>((resolve, reject) => {
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(guard);
      clearInterval(backstop);
      stop();
      if (error) reject(error);
      else resolve();
    };
    // One read at a time; an event during a read asks for one more, so none is missed.
    const run = async (): Promise<void> => {
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      try {
        do {
          again = false;
          if (await check()) return finish();
        } while (again && !settled);
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      } finally {
        checking = false;
      }
    };
    // Subscribed before the first read: a change between the two still triggers a read.
    const stop = cairn.subscribe((event) => {
      if (relevant(event)) void run();
    });
    const backstop = setInterval(() => void run(), 250);
    const guard = setTimeout(() => {
      const what = typeof describe === "string" ? describe : describe();
      finish(new Error(`${what} did not happen within ${timeoutMs} ms.`));
    }, timeoutMs);
    void run();
  });
}
