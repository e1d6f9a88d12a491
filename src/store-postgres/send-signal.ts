import type { Sql } from "postgres";
import { serializeAnyOutcome } from "../core/any-outcome.ts";
import { CairnError } from "../core/errors.ts";
import { isTerminal, type RunId, type RunStatus } from "../core/types.ts";
import { pipelinedTransaction } from "./pipeline.ts";
import { nextSeq, wakeRuns } from "./run-statements.ts";

/**
 * Buffers a signal for a run, or hands it to the run's wait for it. The run row is
 * locked first: a batch suspending the run on this signal holds that lock while it looks
 * for a buffered signal and registers its wait, so one of the two sees the other.
 */
export async function sendSignal(
  sql: Sql,
  runId: RunId,
  name: string,
  payload: string | null,
  at: number,
): Promise<{ woke: boolean }> {
  return pipelinedTransaction(sql, async (tx, send) => {
    const [run] = await send(tx`SELECT status FROM runs WHERE id = ${runId} FOR UPDATE`);
    if (!run) throw new CairnError("RUN_NOT_FOUND", `No run with id "${runId}".`);
    if (isTerminal(run.status as RunStatus)) {
      throw new CairnError(
        "RUN_NOT_ACTIVE",
        `Run "${runId}" is ${run.status}; it takes no more signals.`,
      );
    }
    const inserted = send(tx`INSERT INTO signals (run_id, name, payload, created_at)
      VALUES (${runId}, ${name}, ${payload}, ${at}) RETURNING seq`);
    const [wait] = await send(tx`SELECT position, alt FROM waits
      WHERE kind = 'signal' AND run_id = ${runId} AND name = ${name}
      ORDER BY position, alt LIMIT 1`);
    if (!wait) return { woke: false };
    const [signal] = await inserted;
    // A waitForAny position (alt > 0) records which alternative won.
    const output = Number(wait.alt) > 0 ? serializeAnyOutcome("signal", name, payload) : payload;
    void send(tx`UPDATE signals SET consumed_at = ${at} WHERE seq = ${signal?.seq}`);
    void send(tx`UPDATE steps SET status = 'completed', output = ${output}, error = NULL,
        finished_at = ${at}, ${tx.unsafe(nextSeq)}
      WHERE run_id = ${runId} AND position = ${wait.position} AND status = 'waiting'`);
    void send(tx`DELETE FROM waits WHERE run_id = ${runId} AND position = ${wait.position}`);
    void send(wakeRuns(tx, [runId], at));
    return { woke: true };
  });
}
