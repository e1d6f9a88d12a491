import type { Sql } from "postgres";
import { CairnError } from "../core/errors.ts";
import type { RunId } from "../core/types.ts";
import type { RunRecord } from "../store/store.ts";
import { pipelinedTransaction } from "./pipeline.ts";
import { toRun } from "./rows.ts";
import { wakeChannel } from "./run-statements.ts";

/**
 * Puts a failed or cancelled run back in the queue: its failed steps are forgotten (they
 * run again), completed ones keep their outcomes, and the deadline starts over.
 */
export async function retryRun(
  sql: Sql,
  id: RunId,
  at: number,
  deadlineAt: number | null,
): Promise<RunRecord> {
  return pipelinedTransaction(sql, async (tx, send, commit) => {
    const [row] = await send(tx`SELECT status FROM runs WHERE id = ${id} FOR UPDATE`);
    if (!row) throw new CairnError("RUN_NOT_FOUND", `No run with id "${id}".`);
    if (row.status !== "failed" && row.status !== "cancelled") {
      throw new CairnError(
        "INVALID_STATE",
        `Run "${id}" is ${row.status}; only failed or cancelled runs can be retried.`,
      );
    }
    void send(tx`DELETE FROM steps WHERE run_id = ${id} AND status = 'failed'`);
    const requeued = send(tx`UPDATE runs SET status = 'queued', error = NULL, output = NULL,
        finished_at = NULL, available_at = ${at}, updated_at = ${at},
        deadline_at = ${deadlineAt}, lease_owner = NULL
      WHERE id = ${id}
      RETURNING *, pg_notify(${tx.unsafe(wakeChannel)}, workflow) AS notified`);
    await commit();
    const [run] = await requeued;
    return toRun(run as Record<string, unknown>);
  });
}
