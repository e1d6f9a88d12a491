import type { Sql } from "postgres";
import type { RunStatus } from "../core/types.ts";
import type { JournalOp, JournalOpResult, SetOp } from "../store/store.ts";
import { pipelinedTransaction } from "./pipeline.ts";
import { clearUnblocked, insertRuns, lockSlotsOf, unblock, wakeChannel } from "./run-statements.ts";

type Continue = Extract<JournalOp, { type: "continue" }>;

/**
 * Commits a batch that holds continue-as-new ops: the other ops go through the set-based
 * batch (`commitSet`) in runs between them, each continuation in a transaction of its own,
 * in batch order (a run's last entries commit before its continuation).
 */
export async function commitWithContinuations(
  sql: Sql,
  ops: readonly JournalOp[],
  commitSet: (ops: readonly SetOp[]) => Promise<JournalOpResult[]>,
): Promise<JournalOpResult[]> {
  const results: JournalOpResult[] = [];
  let pending: SetOp[] = [];
  const flush = async () => {
    if (pending.length > 0) results.push(...(await commitSet(pending)));
    pending = [];
  };
  for (const op of ops) {
    if (op.type !== "continue") {
      pending.push(op);
      continue;
    }
    await flush();
    results.push(await continueRun(sql, op));
  }
  await flush();
  return results;
}

/**
 * `ctx.continueAsNew` as SQLite's `continueRun` does it, fenced: the run completes with no
 * output, linked to its successor, which is created (an existing row of that id is left
 * alone), linked back and given the run's tags. The run's waits go, its concurrency slot
 * frees (its slot lock first, then its row: the global lock order), and its parent is not
 * resolved: the successor carries the parent link.
 */
export async function continueRun(sql: Sql, op: Continue): Promise<JournalOpResult> {
  return pipelinedTransaction(sql, async (tx, send) => {
    void send(lockSlotsOf(tx, [op.runId]));
    const [run] = await send(tx`SELECT status, fencing_token FROM runs WHERE id = ${op.runId}
      FOR UPDATE`);
    if (run?.status !== "running" || Number(run.fencing_token) !== op.token) {
      return { ok: false, reason: "fenced", status: (run?.status as RunStatus) ?? null };
    }
    const { successor } = op;
    const [inserted] = await send(insertRuns(tx, [successor]));
    if (inserted) {
      void send(tx`UPDATE runs SET continued_from = ${op.runId} WHERE id = ${successor.id}`);
      void send(tx`INSERT INTO run_tags (run_id, key, value)
        SELECT ${successor.id}, key, value FROM run_tags WHERE run_id = ${op.runId}
        ON CONFLICT DO NOTHING`);
    }
    void send(tx`DELETE FROM waits WHERE run_id = ${op.runId}`);
    void send(tx`WITH u AS (
        UPDATE runs SET status = 'completed', output = NULL, error = NULL,
          finished_at = ${op.at}, updated_at = ${op.at}, available_at = NULL,
          lease_owner = NULL, continued_to = ${successor.id}
        WHERE id = ${op.runId}
        RETURNING id, workflow, concurrency_key, concurrency_limit, updated_at AS at
      ), ${unblock(tx, "u", "u")}
      SELECT (SELECT count(*) FROM (SELECT pg_notify(${tx.unsafe(wakeChannel)}, workflow)
          FROM (SELECT workflow FROM unblocked) AS w) AS n) AS notified`);
    void send(clearUnblocked(tx));
    return { ok: true, status: "completed" };
  });
}
