import { CairnError, RunCancelledError } from "../core/errors.ts";
import { deserialize, deserializeError } from "../core/serializer.ts";
import { isTerminal, type RunId, type RunStatus } from "../core/types.ts";
import type { RunRecord } from "../store/store.ts";
import type { Engine } from "./engine.ts";

/**
 * Waits for a run to end and returns its output or throws its error (for a run that continued
 * as new, those of the last run of its chain): woken by this process's finish notices, which
 * include the store's announcements of runs that ended in other processes (see `EndWatch`),
 * and polling the store (backing off to 1 s) in case an announcement is lost.
 * A notice of a run this process finished carries its committed outcome: no read (a round
 * trip on PostgreSQL, in the latency of every run awaited where it ran).
 */
export async function runResult<O>(engine: Engine, id: RunId): Promise<O> {
  return outcomeOf<O>(await runOutcome(engine, id));
}

/** How a run ended (the last run of its chain), serialized as the store holds it. */
export type RunEnd = Pick<RunRecord, "id" | "status" | "output" | "error">;

/**
 * `runResult`'s wait, without deserializing: the end of the run's chain, or, once `until`
 * (a `performance.now()` time) has passed or `signal` aborted, the status it was last seen in
 * (an HTTP request waiting for a result cannot wait forever).
 */
export async function runOutcome(
  engine: Engine,
  id: RunId,
  {
    until = Number.POSITIVE_INFINITY,
    signal,
  }: { until?: number; signal?: AbortSignal | undefined } = {},
): Promise<RunEnd> {
  let pollMs = 50;
  // A run executing here is not over, and its end here sends a notice: waiting for it first
  // spares a read. The check and the wait start in the same turn, so no notice slips between.
  let current = id;
  let read = !engine.worker?.isExecuting(current);
  let watched: RunId | undefined;
  for (;;) {
    // Only a run executing elsewhere needs its end announced (asking is a write for a run
    // created claimed: it cost every long local run one): its first read asks for it.
    const announce = read && watched !== current && !engine.worker?.isExecuting(current);
    if (announce) {
      await engine.ends.start();
      watched = current;
    }
    // Listening before the read: an end announced while the read is on its way wakes it.
    const finish = engine.bus.nextFinish(current, Math.min(pollMs, until - performance.now()));
    const stop = () => finish.cancel();
    signal?.addEventListener("abort", stop);
    try {
      if (read) {
        let run: RunRecord | undefined;
        try {
          run = await (announce ? engine.ends.readWatched(current) : engine.store.getRun(current));
        } finally {
          if (!run || isTerminal(run.status)) finish.cancel();
        }
        if (!run) throw new CairnError("RUN_NOT_FOUND", `No run with id "${current}".`);
        // A run that continued as new: its result is the last run's of the chain.
        if (run.status === "completed" && run.continuedTo) {
          current = run.continuedTo;
          pollMs = 50;
          read = !engine.worker?.isExecuting(current);
          continue;
        }
        if (isTerminal(run.status)) return run;
      }
      const notice = await finish.notice;
      if (notice) return { id: current, output: null, error: null, ...notice };
    } finally {
      signal?.removeEventListener("abort", stop);
    }
    if (signal?.aborted || performance.now() >= until) return lastSeen(engine, current);
    // Still executing here: its end will send a notice, so the read waits for the third
    // wake-up (350 ms), a safety net for a notice that never comes, not a cost of every run.
    read = !engine.worker?.isExecuting(current) || pollMs >= 200;
    pollMs = Math.min(pollMs * 2, 1_000);
  }
}

/** Where a run's chain stands when a wait gives up: a successor just started is not over. */
async function lastSeen(engine: Engine, id: RunId): Promise<RunEnd> {
  const run = await engine.store.getRun(id);
  if (!run) throw new CairnError("RUN_NOT_FOUND", `No run with id "${id}".`);
  if (run.status === "completed" && run.continuedTo) {
    return { id: run.continuedTo, status: "queued", output: null, error: null };
  }
  return run;
}

function outcomeOf<O>(run: Pick<RunRecord, "id" | "status" | "output" | "error">): O {
  const status: RunStatus = run.status;
  if (status === "completed") return deserialize<O>(run.output);
  if (status === "cancelled") throw new RunCancelledError(run.id);
  // The run's own error, so `catch (e)` sees what the workflow threw.
  throw deserializeError(run.error ?? '{"name":"Error","message":"unknown error"}');
}
