import type { Sql } from "postgres";
import type { RunId } from "../core/types.ts";
import type { JournalEntry } from "../store/store.ts";

/** Thrown inside the transaction to roll it back when the run is no longer ours. */
class Fenced extends Error {}

/**
 * Runs `fn` with a postgres.js `TransactionSql` and records the step's outcome in the
 * same transaction, so the step's own writes commit exactly once, with its checkpoint.
 *
 * The fencing check that counts is made at the end, under the run row's lock, right
 * before the entry is written: whatever happened while `fn` ran (lease lost, run
 * cancelled), `fn`'s writes and the outcome commit only if the run is still ours, else
 * everything rolls back. The row is not locked while `fn` runs: the process's journal
 * batches lock it too, and would stall every run of the process behind user code (and
 * then fail on `lock_timeout`). A plain check first skips `fn` for a run already lost.
 */
export async function transactionalStep<T>(
  sql: Sql,
  op: { runId: RunId; token: number; entry: JournalEntry },
  fn: (tx: unknown) => T | Promise<T>,
  serializeOutput: (value: T) => string,
): Promise<{ ok: true; value: T; output: string } | { ok: false; reason: "fenced" }> {
  try {
    return await sql.begin(async (tx) => {
      const [before] = await tx`SELECT status, fencing_token FROM runs WHERE id = ${op.runId}`;
      if (!holds(before, op.token)) throw new Fenced();
      const value = await fn(tx);
      const output = serializeOutput(value);
      const [now] = await tx`SELECT status, fencing_token FROM runs
        WHERE id = ${op.runId} FOR UPDATE`;
      if (!holds(now, op.token)) throw new Fenced();
      const e = op.entry;
      await tx`INSERT INTO steps (run_id, position, key, kind, status, output, error,
          attempt, started_at, finished_at, wake_at, detail, seq)
        VALUES (${op.runId}, ${e.position}, ${e.key}, ${e.kind}, ${e.status}, ${output},
          ${e.error}, ${e.attempt}, ${e.startedAt}, ${e.finishedAt}, ${e.wakeAt}, ${e.detail},
          ${e.seq})
        ON CONFLICT (run_id, position) DO UPDATE SET status = excluded.status,
          output = excluded.output, error = excluded.error, attempt = excluded.attempt,
          started_at = excluded.started_at, finished_at = excluded.finished_at,
          wake_at = excluded.wake_at, detail = excluded.detail, seq = excluded.seq`;
      return { ok: true as const, value, output };
    });
  } catch (error) {
    if (error instanceof Fenced) return { ok: false, reason: "fenced" };
    throw error;
  }
}
/** True when the row says the run is still `running` under this token. */
function holds(row: Record<string, unknown> | undefined, token: number): boolean {
  return row?.status === "running" && Number(row.fencing_token) === token;
}
